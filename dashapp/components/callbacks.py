"""Callbacks of the shell, by job: URL state, model readiness, image intake,
and the browser-side helpers."""

from __future__ import annotations

from dash import Dash

from ..service import Analyzer
from . import clientside, image_intake, model_loading, url_sync


def register(app: Dash, service: Analyzer, pages: tuple[str, ...] = ()) -> None:
    url_sync.register(app, service, pages)
    model_loading.register(app, service)
    image_intake.register(app, service)
    clientside.register(app)
