"""Callbacks of the shell, by job: URL state, model readiness, image intake,
the browser-side helpers and the words beside each heatmap."""

from __future__ import annotations

from dash import Dash

from dashapp.service import Analyzer
from dashapp.ui.callbacks import clientside, layer_meaning, model_loading, url_sync
from dashapp.ui.callbacks import intake as image_intake


def register(app: Dash, service: Analyzer, pages: tuple[str, ...] = ()) -> None:
    url_sync.register(app, service, pages)
    model_loading.register(app, service)
    image_intake.register(app, service)
    clientside.register(app)
    layer_meaning.register(app, service)
