"""The words the browser's own scripts show (``assets/js/dashapp.js``: the
heatmap hover box, the upload check; ``assets/js/a11y.js``: names of clickable
things), in the page's language.

The shell carries them as JSON in a hidden element's ``data-strings``
attribute; the scripts read it when they word something (``uiText`` there)
and keep their English text when it is absent. Placeholders are ``{name}``,
filled by the scripts.
"""

from __future__ import annotations

import json
from typing import Any

from dash import html

from dashapp import i18n
from dashapp.config.version import version
from dashapp.i18n import _

ELEMENT_ID = "ui-strings"


def browser_strings() -> dict[str, str]:
    """Key -> text in the current language (keys are the scripts' names for them)."""
    return {
        # The decimal mark of numbers the scripts write ("0,153" in Spanish).
        "decimal": i18n.plotly_separators()[0],
        "hover": _("{name}: response {value} ({percentile} percentile of this map) at x {x}, y {y} px; "
                   "receptive field {width}×{height} px"),
        "filter": _("Filter {index}"),
        "uploadTooLarge": _("“{file}” is {size}; the upload limit is {limit}. Nothing was sent. "
                            "Choose a smaller image."),
        "file": _("file"),
        "copyLink": _("Copy the link to this view"),
        "sortBy": _("Sort by {column}"),
        "thisColumn": _("this column"),
        "openFilter": _("Open filter {index}"),
        # A figure's PNG title (assets/js/export.js).
        "exportRandom": _("{model} (untrained weights {tag})"),
        "exportImageNet": _("{model} (ImageNet weights {tag})"),
        "exportTeam": _("{model} (team checkpoint {tag})"),
        "exportImage": _("image {hash}"),
        "appVersion": f"{i18n.app_name()} {version()}",
    }


def strings_element() -> html.Div:
    """The hidden element the scripts read their words from."""
    words: dict[str, Any] = {"data-strings": json.dumps(browser_strings(), ensure_ascii=False)}  # a keyword only
    return html.Div(id=ELEMENT_ID, hidden=True, **words)
