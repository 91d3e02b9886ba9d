"""Class evidence: Grad-CAM / Grad-CAM++ for the selected layer and any class."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from ..analysis.gradcam import METHODS
from ..components.widgets import heatmap_slot, hidden_label, page_header
from ..service import Analyzer
from ._common import guarded, heatmap_of, view_of

PATH = "/evidence"
NAME = "Class evidence"
DESCRIPTION = "Grad-CAM: which parts of the image raise a class's score, at the selected layer."
METHOD_LABELS = {"gradcam": "Grad-CAM", "gradcam++": "Grad-CAM++"}


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            page_header("Class evidence", "Where the evidence for a class lies, seen from the selected layer: the "
                        "layer's maps weighted by how much each raises the class score (Grad-CAM)."),
            html.Div(id="evidence-error"),
            html.Div(id="evidence-top", className="d-flex flex-wrap gap-2 mb-2"),
            dbc.Row(
                [
                    dbc.Col([hidden_label("Class", "evidence-class"),
                             dcc.Dropdown(id="evidence-class", placeholder="Search any of the model's classes…",
                                          searchable=True, clearable=False)], md=7),
                    dbc.Col(html.Fieldset([
                        html.Legend("Method", className="visually-hidden"),
                        dbc.RadioItems(id="evidence-method", inline=True,
                                       options=[{"label": METHOD_LABELS[m], "value": m} for m in METHODS]),
                    ]), md=5),
                ],
                className="g-2 mb-2 align-items-center",
            ),
            html.H2(id="evidence-title", className="section-title"),
            dcc.Loading(heatmap_slot("evidence", height=520), type="default", delay_show=300),
            html.Div(
                "Grad-CAM weighs each map of the layer by the average gradient of the class score and keeps the "
                "positive sum; Grad-CAM++ weighs positive gradients position by position, which separates several "
                "instances of a class better. Deep layers give coarse but class-specific maps; early layers give "
                "fine maps that are less specific. The method passes the model-randomization sanity check of "
                "Adebayo et al. (2018): with the layers above re-initialized, the map changes (tested).",
                className="control-help mt-2",
            ),
        ]
    )


def register(app: Dash, service: Analyzer) -> None:
    @app.callback(
        Output("evidence-error", "children"),
        Output("evidence-top", "children"),
        Output("evidence-class", "options"),
        Output("evidence-class", "value"),
        Output("evidence-method", "value"),
        Output("evidence-title", "children"),
        Output({"type": "fig-base", "index": "evidence"}, "data"),
        Input("ready-state", "data"),
    )
    @guarded(outputs=7)
    def render(ready: dict[str, Any]) -> tuple[Any, ...]:
        view = view_of(service, ready)
        loaded, top = view.loaded, view.prediction
        cls = view.state.cls
        if cls is None:
            cls = top[0]["index"] if top else 0
        method = view.state.cam
        cam = view.evidence(cls, method)
        figure = heatmap_of(view, cam, cls, height=520, quantity="evidence",
                            subject=f"{METHOD_LABELS[method]} for “{loaded.categories[int(cls)]}”")
        buttons = [
            dbc.Button(f"{p['label']} · {p['probability']:.1%}", id={"type": "evidence-top-class", "index": p["index"]},
                       color="primary", outline=p["index"] != cls, size="sm", n_clicks=0)
            for p in top
        ]
        options = [{"label": f"{i} · {name}", "value": i} for i, name in enumerate(loaded.categories)]
        untrained = "" if loaded.weights.pretrained else " (untrained weights: arbitrary)"
        title = (f"{METHOD_LABELS[method]} for “{loaded.categories[int(cls)]}” at {view.info.name}{untrained}"
                 + ("" if float(cam.max()) > 0 else " — no positive evidence at this layer"))
        return None, [html.Span("Top-5:", className="me-1 align-self-center small text-muted"), *buttons], options, \
            int(cls), method, title, figure

    @app.callback(
        Output("nav-request", "data", allow_duplicate=True),
        Input({"type": "evidence-top-class", "index": ALL}, "n_clicks"),
        Input("evidence-class", "value"),
        Input("evidence-method", "value"),
        State("ready-state", "data"),
        prevent_initial_call=True,
    )
    def choose(clicks: list[int | None], picked: int | None, method: str | None, ready: dict[str, Any] | None) -> Any:
        if not ready:
            return no_update
        trigger = ctx.triggered_id
        if isinstance(trigger, dict) and trigger.get("type") == "evidence-top-class":
            # Buttons are re-created with n_clicks=0 on every render: only a real click counts.
            if not any(clicks):
                return no_update
            wanted = {"cls": int(trigger["index"])}
        elif trigger == "evidence-class" and picked is not None:
            wanted = {"cls": int(picked)}
        elif trigger == "evidence-method" and method:
            wanted = {"cam": method}
        else:
            return no_update
        if all(ready.get(k) == v for k, v in wanted.items()):
            return no_update
        return wanted
