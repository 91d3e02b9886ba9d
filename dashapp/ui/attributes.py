"""HTML ``aria-*`` and ``data-*`` attributes for Dash components.

Dash takes them only as keywords spelled with a hyphen, so they are passed
unpacked from a dict; a dict of strings would claim, to a type checker, to
fill the component's typed arguments too. ``attrs`` names them as Python
keywords instead::

    html.Div(id="status", **attrs(aria_live="polite", data_labels="load-progress"))
"""

from __future__ import annotations

from typing import Any


def attrs(**values: str) -> dict[str, Any]:
    """``aria_live="polite"`` -> ``{"aria-live": "polite"}``: each ``_`` in a name becomes ``-``."""
    return {name.replace("_", "-"): value for name, value in values.items()}
