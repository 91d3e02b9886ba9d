"""The page's scripts without Dash's @babel/polyfill.

Dash puts @babel/polyfill 7.12.1 (core-js 2 and regenerator-runtime) before
React, for browsers of the Internet Explorer era. In a current browser core-js
2 still replaces natives it judges wrong by an older spec, String.prototype.trim
and Function.prototype.toString among them, so every page paid about 80 ms of
main-thread time for it on each load (a CPU profile of a first visit), and its
replacements ran slower than the natives afterwards. Of the polyfill, Dash's
bundles need one thing: the ``regeneratorRuntime`` global, which
@plotly/dash-component-plugins reads when a lazily loaded component (dcc.Graph,
dcc.Slider, ...) arrives. ``assets/vendor/regenerator-runtime.js`` (npm
``regenerator-runtime``, MIT licence beside it) defines that global, and this
module takes the polyfill's script out of the page.

It also writes plotly.js's locale in the page's head (the template's
``{%plotly_locale%}``, ui/layout/shell.py): plotly.js now runs before Dash has
rendered anything, and assets/js/language.js registers the locale the moment
plotly.js arrives.
"""

from __future__ import annotations

import html
import re
from typing import Any

from dash import Dash

from dashapp.i18n.negotiation import plotly_locale

__all__ = ["LOCALE", "POLYFILL_SCRIPT", "install"]

LOCALE = "{%plotly_locale%}"

# Dash's own address for it, with its cache-busting part: .../deps/polyfill@7.v4_4_1m1795954504.12.1.min.js
POLYFILL_SCRIPT = re.compile(r'<script src="[^"]*/deps/polyfill@[^"]*"></script>\s*')


def install(app: Dash) -> None:
    original = app.interpolate_index

    def interpolate_index(**kwargs: Any) -> str:
        kwargs["scripts"] = POLYFILL_SCRIPT.sub("", kwargs.get("scripts", ""))
        return original(**kwargs).replace(LOCALE, html.escape(plotly_locale(), quote=True))

    # Dash calls it with keywords only; its declared signature is positional.
    app.interpolate_index = interpolate_index  # type: ignore[method-assign,assignment]
