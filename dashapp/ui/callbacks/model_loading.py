"""Model readiness: pages listen to ``ready-state``, set (by the URL
callback, through ``readiness``) once the model can answer. While the server
downloads a missing checkpoint (it starts that itself, at boot), a poll shows
the progress read from the shared progress file; the banner says when the
weights are untrained and why."""

from __future__ import annotations

import contextlib
from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, html, no_update

from dashapp.errors import UserError
from dashapp.i18n import _
from dashapp.service import Analyzer
from dashapp.ui import forged
from dashapp.ui.attributes import attrs
from dashapp.wording.weights import download_label, weights_reason

SHOWN = {"display": "block"}
HIDDEN = {"display": "none"}


def readiness(service: Analyzer, view: dict[str, Any]) -> tuple[Any, Any]:
    """(ready-state, load-poll.disabled) for a new analysis state: the state
    itself once its model is loaded, or the progress poll switched on while
    the server fetches its weights."""
    model = view.get("model")
    if model not in service.models.names:
        return no_update, no_update
    if service.registry.needs_download(model):
        return no_update, False  # the server is fetching its weights: show the progress
    with contextlib.suppress(UserError):  # the pages and the banner say why
        service.models.model(model)
    return view, True


def register(app: Dash, service: Analyzer) -> None:
    shown = {"ready": Output("ready-state", "data", allow_duplicate=True),
             "progress": Output("load-progress", "value"),
             "label": Output("load-label", "children"),
             "wrap": Output("load-progress-wrap", "style"),
             "poll_off": Output("load-poll", "disabled", allow_duplicate=True)}

    @app.callback(shown, Input("load-poll", "n_intervals"), State("view-state", "data"), prevent_initial_call=True)
    def show_download(_ticks: int | None, view: dict[str, Any] | None) -> dict[str, Any]:
        """Reads the progress of the download the server started at boot; it
        never starts one, whatever the request names."""
        model = (view or {}).get("model")
        if model not in service.models.names:
            return {**dict.fromkeys(shown, no_update), "wrap": HIDDEN, "poll_off": True}
        progress = service.registry.download_progress(model)
        if progress.state == "downloading":
            return {"ready": no_update, "progress": int(progress.fraction * 100),
                    "label": download_label(model, progress), "wrap": SHOWN, "poll_off": False}
        # Done, or failed: the model loads from disk or falls back, and the banner says which.
        return {"ready": view, "progress": 100, "label": _("Loading {model}…").format(model=model), "wrap": HIDDEN,
                "poll_off": True}

    @app.callback(Output("weights-banner", "children"), Input("model-state", "data"))
    def weights_banner(ready: dict[str, Any] | None) -> Any:
        if not ready:
            return no_update
        model = forged.mapping(ready).get("model")
        if not isinstance(model, str):
            forged.forged()
        try:
            loaded = service.models.model(model)
        except UserError as exc:
            return dbc.Alert(exc.message, color="danger", className="weights-banner")
        weights = loaded.weights
        # Where the weights come from, for the exports' titles (assets/js/export.js).
        context = attrs(data_weights_tag=weights.tag, data_trained_on=loaded.trained_on)
        if weights.pretrained:
            return html.Span(hidden=True, **context)
        return [html.Span(hidden=True, **context), dbc.Alert(
            [
                html.Strong(_("Untrained weights.") + " "),
                _("{model} is running on seeded random weights, not its ImageNet training, so filters, "
                  "rankings and predictions show no learned features.").format(model=ready["model"]) + " ",
                html.Span(_("Why: {reason}").format(reason=weights_reason(weights)), className="banner-reason"),
            ],
            color="danger",
            className="weights-banner",
            id="untrained-banner",
        )]
