"""Class evidence: Grad-CAM / Grad-CAM++ at a conv or block for any class,
and the model-randomization sanity check of what is on screen."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from dashapp.analysis.attribution.gradcam import METHODS
from dashapp.figures.maps import TOOLBAR
from dashapp.figures.sanity import sanity_figure
from dashapp.ui import forged
from dashapp.ui.attributes import attrs
from dashapp.ui.callbacks.layer_meaning import branch_convs
from dashapp.ui.layout.widgets import error_alert, heatmap_slot, hidden_label, page_header

from ..errors import UserError
from ..i18n import N_, _, percent
from ..service import Analyzer, LayerView
from ..service.evidence import SanityQueued
from ..wording.layers import layer_meaning
from ..wording.sanity import verdict_sentence
from . import _circuit_io
from ._common import guarded, heatmap_of, view_of

PATH = "/evidence"
NAME = N_("Class evidence")
DESCRIPTION = N_("Grad-CAM: which parts of the image raise a class's score, at a conv or block.")
METHOD_LABELS = {"gradcam": "Grad-CAM", "gradcam++": "Grad-CAM++"}
VERDICT_COLOURS = {"passed": "success", "failed": "danger", "undecided": "secondary"}
KIND_LABELS = {"conv": N_("conv"), "block": N_("block")}


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            page_header(_("Class evidence"), _("Where the evidence for a class lies, seen from one layer: the layer's "
                        "maps weighted by how much each raises the class score (Grad-CAM).")),
            html.Div(id="evidence-error"),
            html.Div(id="evidence-top", className="d-flex flex-wrap gap-2 mb-2"),
            dbc.Row(
                [
                    dbc.Col([hidden_label(_("Class"), "evidence-class"),
                             dcc.Dropdown(id="evidence-class", placeholder=_("Search any of the model's classes…"),
                                          searchable=True, clearable=False)], md=5),
                    dbc.Col([hidden_label(_("Evidence layer"), "evidence-layer"),
                             dcc.Dropdown(id="evidence-layer", placeholder=_("Evidence layer"), searchable=True,
                                          clearable=False, optionHeight=30)], md=4),
                    dbc.Col(html.Fieldset([
                        html.Legend(_("Method"), className="visually-hidden"),
                        dbc.RadioItems(id="evidence-method", inline=True,
                                       options=[{"label": METHOD_LABELS[m], "value": m} for m in METHODS]),
                    ]), md=3),
                ],
                className="g-2 mb-1 align-items-center",
            ),
            html.Div(id="evidence-meaning", className="control-help mb-2"),
            html.Div(id="evidence-blocks", className="mb-2"),  # "Which filters carry this class?" (_circuit_io)
            html.H2(id="evidence-title", className="section-title"),
            dcc.Loading(heatmap_slot("evidence", height=520), type="default", delay_show=300),
            html.Div(
                _("Grad-CAM weighs each map of the layer by the average gradient of the class score with respect to "
                "that map and keeps the positive sum; Grad-CAM++ weighs positive gradients position by position, "
                "which separates several instances of a class better. A block's output (ResNet layer4) includes "
                "the identity path; a conv inside a block is its branch alone. Deep layers give coarse but "
                "class-specific maps; early layers give fine maps that are less specific."),
                className="control-help mt-2",
            ),
            html.H2(_("Sanity check"), className="section-title mt-3"),
            html.Div(
                _("Does this map depend on the model's weights? The check (Adebayo et al., 2018) re-initializes "
                "the network from the top down, one block at a time, never this layer itself, recomputes the map "
                "after each step and compares it with the original (rank correlation and SSIM). A faithful map "
                "falls apart; a map that stays the same shows the image, not the model."),
                className="control-help mb-2",
            ),
            dbc.Button(_("Run the sanity check"), id="evidence-sanity-run", color="secondary", outline=True, size="sm",
                       n_clicks=0, className="mb-2"),
            # "Queued" while another check holds the server's slots (outside the spinner, announced).
            html.Div(id="evidence-sanity-queue", className="small text-muted mb-2",
                     **attrs(role="status", aria_live="polite")),
            dcc.Store(id="evidence-sanity-wait"),
            dcc.Loading(html.Div(id="evidence-sanity"), type="default", delay_show=200),
        ]
    )


def _layer_options(view: LayerView) -> list[dict[str, str]]:
    options = []
    for layer in view.loaded.evidence_layers():
        h, w = layer.map_size
        kind = _(KIND_LABELS[layer.kind]) if layer.kind in KIND_LABELS else layer.kind
        options.append({"label": f"{layer.name} · {kind} · {h}×{w}", "value": layer.name})
    return options


def _sanity_panel(result: dict[str, Any] | None, pretrained: bool) -> Any:
    if result is None:
        return html.Div(_("Not run yet for this image, class, layer and method."), className="text-muted small")
    colour = VERDICT_COLOURS.get(result["verdict"], "secondary")
    return html.Div([
        dbc.Alert(verdict_sentence(result, pretrained), color=colour, className="mb-2 sanity-verdict"),
        dcc.Graph(figure=sanity_figure(result), config=TOOLBAR, id="evidence-sanity-figure"),
    ])


def register(app: Dash, service: Analyzer) -> None:
    _circuit_io.register_evidence_link(app, service)
    outputs = {
        "error": Output("evidence-error", "children"),
        "top": Output("evidence-top", "children"),
        "class_options": Output("evidence-class", "options"),
        "class": Output("evidence-class", "value"),
        "method": Output("evidence-method", "value"),
        "layer_options": Output("evidence-layer", "options"),
        "layer": Output("evidence-layer", "value"),
        "meaning": Output("evidence-meaning", "children"),
        "title": Output("evidence-title", "children"),
        "figure": Output({"type": "fig-base", "index": "evidence"}, "data"),
    }

    @app.callback(outputs, Input("ready-state", "data"))
    @guarded(outputs)
    def render(ready: dict[str, Any]) -> dict[str, Any]:
        return _render(view_of(service, ready))

    _register_sanity(app, service)

    @app.callback(
        Output("nav-request", "data", allow_duplicate=True),
        Input({"type": "evidence-top-class", "index": ALL}, "n_clicks"),
        Input("evidence-class", "value"),
        Input("evidence-method", "value"),
        Input("evidence-layer", "value"),
        State("ready-state", "data"),
        prevent_initial_call=True,
    )
    def choose(clicks: list[int | None], picked: int | None, method: str | None, layer: str | None,
               ready: dict[str, Any] | None) -> Any:
        if not ready:
            return no_update
        ready = forged.mapping(ready)
        trigger = ctx.triggered_id
        if isinstance(trigger, dict) and trigger.get("type") == "evidence-top-class":
            # Buttons are re-created with n_clicks=0 on every render: only a real click counts.
            if not any(forged.sequence(clicks)):
                return no_update
            wanted: dict[str, Any] = {"cls": forged.count(trigger["index"])}
        elif trigger == "evidence-class" and picked is not None:
            wanted = {"cls": forged.count(picked)}
        elif trigger == "evidence-method" and method:
            wanted = {"cam": method}
        elif trigger == "evidence-layer" and layer:
            wanted = {"elayer": layer}
        else:
            return no_update
        if all(ready.get(k) == v for k, v in wanted.items()):
            return no_update
        return wanted


def _sanity_of(service: Analyzer, ready: dict[str, Any], compute: bool, wait: bool) -> Any:
    view = view_of(service, ready)
    top = view.prediction
    cls = view.state.cls if view.state.cls is not None else (top[0]["index"] if top else 0)
    return _sanity_panel(view.sanity(cls, view.state.cam, compute=compute, wait=wait),
                         view.loaded.weights.pretrained)


def _register_sanity(app: Dash, service: Analyzer) -> None:
    """The stored result for what is on screen; the button computes it (about
    as long as 2 × the cascade's steps forward and backward passes). With the
    server's slots taken, the page says the check is queued at once and a
    second request waits for its turn, then shows the result."""
    outputs = {"panel": Output("evidence-sanity", "children"), "queue": Output("evidence-sanity-queue", "children"),
               "wait": Output("evidence-sanity-wait", "data")}

    @app.callback(outputs, Input("ready-state", "data"), Input("evidence-sanity-run", "n_clicks"))
    @guarded(outputs, error="panel")
    def run_sanity(ready: dict[str, Any], clicks: int | None) -> dict[str, Any]:
        run = ctx.triggered_id == "evidence-sanity-run" and bool(clicks)
        try:
            return {"panel": _sanity_of(service, ready, run, wait=False), "queue": None, "wait": no_update}
        except SanityQueued as queued:
            return {"panel": no_update, "queue": queued.message, "wait": clicks}

    waited = {"panel": Output("evidence-sanity", "children", allow_duplicate=True),
              "queue": Output("evidence-sanity-queue", "children", allow_duplicate=True)}

    @app.callback(waited, Input("evidence-sanity-wait", "data"), State("ready-state", "data"),
                  prevent_initial_call=True)
    @guarded(waited, error="panel")
    def wait_for_sanity(_asked: Any, ready: dict[str, Any]) -> dict[str, Any]:
        if not ready:
            return dict.fromkeys(waited, no_update)
        try:
            return {"panel": _sanity_of(service, ready, True, wait=True), "queue": None}
        except UserError as exc:  # still busy past the wait: said where the result would be
            return {"panel": error_alert(exc.message), "queue": None}


def _render(view: LayerView) -> dict[str, Any]:
    """The page for one view: top classes, pickers, the layer's meaning, the title and the map."""
    loaded, top = view.loaded, view.prediction
    cls = view.state.cls
    if cls is None:
        cls = top[0]["index"] if top else 0
    method = view.state.cam
    answer = view.evidence(cls, method)
    layer = answer.layer
    # The stored map is normalized to max 1: the hover reads "evidence 0.42 of the peak".
    names = {"method": METHOD_LABELS[method], "label": loaded.categories[int(cls)], "layer": layer.name}
    figure = heatmap_of(view, answer.map, cls, height=520, receptive_field=layer.receptive_field,
                        quantity="evidence", subject=_("{method} for “{label}” at {layer}").format(**names))
    buttons = [
        dbc.Button(f"{p['label']} · {percent(p['probability'], 1)}",
                   id={"type": "evidence-top-class", "index": p["index"]},
                   color="primary", outline=p["index"] != cls, size="sm", n_clicks=0)
        for p in top
    ]
    options = [{"label": f"{i} · {name}", "value": i} for i, name in enumerate(loaded.categories)]
    kind = _(KIND_LABELS[layer.kind]) if layer.kind in KIND_LABELS else layer.kind
    title = _("{method} for “{label}” at {layer} ({kind})").format(kind=kind, **names)
    if not loaded.weights.pretrained:
        title += " " + _("(untrained weights: arbitrary)")
    if answer.scale <= 0:
        title += " — " + _("no positive evidence at this layer")
    meaning = layer_meaning(layer.name, branch_convs(list(view.loaded.layers), layer.name)) or ""
    top_line = [html.Span(_("Top-5:"), className="me-1 align-self-center small text-muted"), *buttons]
    return {"error": None, "top": top_line, "class_options": options, "class": int(cls), "method": method,
            "layer_options": _layer_options(view), "layer": layer.name, "meaning": meaning, "title": title,
            "figure": figure}
