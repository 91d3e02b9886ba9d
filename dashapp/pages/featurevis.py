"""Feature visualization: the image each top filter wants to see, optimized on demand."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, dcc, html, no_update

from dashapp.analysis.featurevis.optimize import OBJECTIVES
from dashapp.errors import UserError
from dashapp.ui.callbacks.jobs import job_controls, register_job
from dashapp.ui.layout.widgets import fmt, notice_alert, page_header

from ..i18n import N_, _
from ..service import Analyzer, LayerView
from ._common import guarded, view_of

PATH = "/featurevis"
NAME = N_("Feature visualization")
DESCRIPTION = N_("Images optimized to excite the layer's top filters (Olah et al., 2017), computed on demand.")
MAX_TILES = 8  # each takes tens of seconds on a CPU; the ranking's first eight
OBJECTIVE_LABELS = {"channel": N_("whole map (channel)"), "neuron": N_("centre cell (neuron)"),
                    "diversity": N_("4 diverse images")}


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            page_header(_(NAME), _("For each top filter of the layer, an image optimized from noise "
                        "to excite it as much as possible: what pattern the filter is looking for, independent of "
                        "the uploaded photo. Computed on demand, then cached for everyone.")),
            html.Div(id="fv-error"),
            html.Div(id="fv-notice"),
            html.Div(
                [
                    dbc.RadioItems(id="fv-objective", value="channel", inline=True,
                                   options=[{"label": _(OBJECTIVE_LABELS[o]), "value": o} for o in OBJECTIVES],
                                   className="fv-objective"),
                    job_controls("fv", _("Compute missing visualizations")),
                ],
                className="d-flex flex-wrap gap-3 align-items-start mb-3",
            ),
            dcc.Store(id="fv-targets"),
            dcc.Store(id="fv-done"),
            dcc.Loading(html.Div(id="fv-tiles", className="fv-tiles"), type="default", delay_show=300),
        ]
    )


def untrained_note(view: LayerView) -> Any:
    if view.loaded.weights.pretrained:
        return None
    return notice_alert(_("Untrained weights: these images show what a filter with seeded random weights "
                          "amplifies, not a learned feature. Load the ImageNet weights to see real features."))


def tile(service: Analyzer, view: LayerView, index: int, rank: int, objective: str) -> html.Figure:
    jobs = service.featurevis
    request = jobs.request(view.loaded.name, view.info.name, str(index), objective)
    meta = jobs.meta(request)
    on_photo = float(view.stats.mean[index])
    if meta is None:
        picture: Any = html.Div(_("not computed yet"), className="fv-empty")
        caption = _("on this photo {value}").format(value=fmt(on_photo))
    else:
        picture = html.Img(src=f"/api/featurevis.png?{request.query}", className="fv-img",
                           alt=_("feature visualization of filter {index}").format(index=index))
        caption = _("reached {reached} · on this photo {value}").format(reached=fmt(meta["mean_response"]),
                                                                         value=fmt(on_photo))
    heading = _("#{rank} · filter {index}").format(rank=rank, index=index)
    return html.Figure(
        [picture, html.Figcaption([html.Strong(heading), html.Br(), caption])],
        className="fv-tile", id={"type": "fv-tile", "index": index},
    )


def register(app: Dash, service: Analyzer) -> None:
    outputs = {
        "error": Output("fv-error", "children"),
        "notices": Output("fv-notice", "children"),
        "tiles": Output("fv-tiles", "children"),
        "targets": Output("fv-targets", "data"),
    }

    @app.callback(outputs, Input("ready-state", "data"), Input("fv-objective", "value"), Input("fv-done", "data"))
    @guarded(outputs)
    def render(ready: dict[str, Any], objective: str, done: dict[str, Any] | None) -> dict[str, Any]:
        view = view_of(service, ready)
        objective = objective if objective in OBJECTIVES else "channel"
        ranked = view.ranking.filters[:MAX_TILES]
        notices = [untrained_note(view)]
        if view.ranking.notice:
            notices.append(notice_alert(view.ranking.notice))
        if done and done.get("error"):
            notices.append(notice_alert(done["error"]))
        tiles = [tile(service, view, f.index, f.rank, objective) for f in ranked]
        targets = {"model": view.loaded.name, "layer": view.info.name, "objective": objective,
                   "filters": [f.index for f in ranked]}
        return {"error": None, "notices": [n for n in notices if n is not None], "tiles": tiles, "targets": targets}

    # Each visualization of a running job drawn as it lands (fv-tally), and
    # once more when a cancel has counted what the job left (fv-status). Not
    # through render: Dash holds a callback back while one of its inputs
    # (fv-done) is the output of a job still running.
    @app.callback(Output("fv-tiles", "children", allow_duplicate=True), Input("fv-tally", "data"),
                  Input("fv-status", "children"), State("ready-state", "data"), State("fv-objective", "value"),
                  prevent_initial_call=True)
    def landed(_tally: dict[str, Any] | None, _status: Any, ready: dict[str, Any] | None,
               objective: str | None) -> Any:
        try:
            view = view_of(service, ready or {})
        except UserError:
            return no_update  # render says why
        objective = objective if objective in OBJECTIVES else "channel"
        return [tile(service, view, f.index, f.rank, objective) for f in view.ranking.filters[:MAX_TILES]]

    register_job(app, service, "fv", max_filters=MAX_TILES)
