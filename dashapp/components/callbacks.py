"""Callbacks of the shell, by job: URL state, model readiness, image intake,
the browser-side helpers and the words beside each heatmap."""

from __future__ import annotations

from dash import Dash

from ..service import Analyzer
from . import clientside, image_intake, layer_meaning, model_loading, url_sync


def register(app: Dash, service: Analyzer, pages: tuple[str, ...] = ()) -> None:
    url_sync.register(app, service, pages)
    model_loading.register(app, service)
    image_intake.register(app, service)
    clientside.register(app)
    layer_meaning.register(app, service)
