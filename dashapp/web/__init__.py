"""The HTTP side of the Flask server: the JSON API, access control, headers, compression, assets."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dash import Dash

    from dashapp.config.settings import Settings
    from dashapp.service import Analyzer


def install(app: Dash, service: Analyzer, settings: Settings) -> None:
    """Every web hook, in the order they must run: the request's language first
    (every later hook, refusals included, answers in it), access control before
    the Plotly bundle, security headers on whatever answers."""
    from dashapp.i18n import negotiation as language
    from dashapp.web import (
        auth,
        callback_limits,
        compression,
        crossorigin,
        headers,
        page_config,
        page_scripts,
        plotly_bundle,
        timing,
    )
    from dashapp.web.api import circuits as circuit_routes
    from dashapp.web.api import concepts as concepts_api
    from dashapp.web.api import routes as api

    page_scripts.install(app)
    page_config.install(app)
    language.install(app)
    api.install(app.server, service)
    concepts_api.install(app.server, service)
    circuit_routes.install(app.server)
    crossorigin.install(app.server, settings)
    auth.install(app, settings)
    callback_limits.install(app)  # after access control: strangers' bodies are not even parsed
    plotly_bundle.install(app.server)  # after auth: its before_request hook runs first
    compression.install(app.server)
    timing.install(app.server, settings.debug)
    headers.install(app.server, settings)
