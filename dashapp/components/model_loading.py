"""Model readiness: pages listen to ``ready-state``, set once the model can
answer; a missing checkpoint is fetched in a background job with progress;
the banner says when the weights are untrained and why."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, html, no_update

from ..analysis.models import ModelError, ensure_weights_file
from ..errors import UserError
from ..service import Analyzer

log = logging.getLogger(__name__)


def register(app: Dash, service: Analyzer) -> None:
    @app.callback(
        Output("ready-state", "data"),
        Output("load-request", "data"),
        Input("view-state", "data"),
    )
    def ensure_model(view: dict[str, Any] | None) -> tuple[Any, Any]:
        if not view:
            return no_update, no_update
        model = view.get("model")
        if model not in service.models.names:
            return no_update, no_update
        if service.registry.needs_download(model):
            return no_update, {"model": model, "view": view}
        with contextlib.suppress(UserError):  # the pages and the banner say why
            service.models.model(model)
        return view, no_update

    @app.callback(
        Output("ready-state", "data", allow_duplicate=True),
        Input("load-request", "data"),
        background=True,
        progress=[Output("load-progress", "value"), Output("load-label", "children")],
        running=[(Output("load-progress-wrap", "style"), {"display": "block"}, {"display": "none"})],
        prevent_initial_call=True,
    )
    def download_weights(set_progress: Any, request: dict[str, Any] | None) -> Any:
        """Runs as a background job: the only long work, fetching weights into
        the shared hub cache; the worker then loads them from disk."""
        if not request:
            return no_update
        model = request["model"]
        set_progress((0, f"Fetching ImageNet weights for {model}…"))
        try:
            ensure_weights_file(model, lambda fraction, text: set_progress((int(fraction * 100), text)),
                                service.registry.mirror)
        except ModelError as exc:
            log.warning("weights download failed: %s", exc)
        set_progress((100, f"Loading {model}…"))
        return request["view"]

    @app.callback(Output("weights-banner", "children"), Input("ready-state", "data"))
    def weights_banner(ready: dict[str, Any] | None) -> Any:
        if not ready:
            return no_update
        try:
            weights = service.models.model(ready["model"]).weights
        except UserError as exc:
            return dbc.Alert(exc.message, color="danger", className="weights-banner")
        if weights.pretrained:
            return None
        return dbc.Alert(
            [
                html.Strong("Untrained weights. "),
                f"{ready['model']} is running on seeded random weights, not its ImageNet training, so filters, "
                "rankings and predictions show no learned features. ",
                html.Span(f"Why: {weights.reason}", className="banner-reason"),
            ],
            color="danger",
            className="weights-banner",
            id="untrained-banner",
        )
