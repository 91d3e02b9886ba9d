"""What a page tells every visitor about the server: no more than its front end needs.

Dash writes its configuration into each page (``<script id="_dash-config">``),
with the exact Python build (``sys.version``), the Dash and plotly versions and
the address of Dash's version check, for its developer tools, which this app
never turns on. A visitor would learn which known flaws to try; this module
leaves them out. (Dash's asset addresses still carry its version in their
cache-busting part, as every Dash app's do.)
"""

from __future__ import annotations

from typing import Any

from dash import Dash

__all__ = ["UNSAID", "install"]

UNSAID = ("dash_version", "python_version", "dash_version_url", "ddk_version", "plotly_version")


def install(app: Dash) -> None:
    original = app._config

    def config() -> dict[str, Any]:
        said = {key: value for key, value in original().items() if key not in UNSAID}
        said["disable_version_check"] = True  # nothing to check against: the versions are unsaid
        return said

    app._config = config  # type: ignore[method-assign]
