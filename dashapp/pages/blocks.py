"""Building blocks: which channels of a layer carry a class, and where
(Olah et al. 2018). Channel attribution by gradient × activation or
integrated gradients, the top channels as cards, and the image divided into
the layer's cells, each listing the channels that carry the class there."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update

from dashapp.analysis.attribution.channels import METHODS, ChannelAttribution
from dashapp.analysis.maps.geometry import map_geometry
from dashapp.figures.circuits import overlay_uri
from dashapp.state.url import encode_state
from dashapp.ui.layout.circuit_cards import bar, examples_hint, picture
from dashapp.ui.layout.widgets import fmt, hidden_label, page_header

from ..i18n import N_, _, percent
from ..service import Analyzer, LayerView
from ..service.circuits import attribution, scanned_examples, top_channels, walk_layer
from ._common import guarded, view_of
from .circuit import examples_picture, featurevis_picture

PATH = "/blocks"
NAME = N_("Building blocks")
DESCRIPTION = N_("Which filters of a layer carry a class, and where in the image.")
METHOD_LABELS = {"gradxact": N_("gradient × activation"), "ig": N_("integrated gradients (32 steps)")}
TOP = 8
GRID_SIDE = 7  # the spatial view pools a larger map into at most 7 × 7 cells
PER_CELL = 3


def layout(**_query: Any) -> html.Div:
    return html.Div([
        page_header(_(NAME), _("Which channels of a layer carry a class, and where: each channel's attribution to the "
                               "class score, and the image cell by cell.")),
        html.Div(id="blocks-error"),
        dbc.Row([
            dbc.Col([hidden_label(_("Class"), "blocks-class"),
                     dcc.Dropdown(id="blocks-class", placeholder=_("Search any of the model's classes…"),
                                  searchable=True, clearable=False)], md=5),
            dbc.Col([hidden_label(_("Layer"), "blocks-layer"),
                     dcc.Dropdown(id="blocks-layer", placeholder=_("Layer"), searchable=True, clearable=False)], md=3),
            dbc.Col(html.Fieldset([
                html.Legend(_("Method"), className="visually-hidden"),
                dbc.RadioItems(id="blocks-method", inline=True, value="gradxact", persistence=True,
                               persistence_type="session",
                               options=[{"label": _(METHOD_LABELS[m]), "value": m} for m in METHODS]),
            ]), md=4),
        ], className="g-2 mb-2 align-items-center"),
        dcc.Loading(html.Div(id="blocks-body"), type="default", delay_show=300),
    ])


def register(app: Dash, service: Analyzer) -> None:
    outputs = {
        "error": Output("blocks-error", "children"),
        "body": Output("blocks-body", "children"),
        "class_options": Output("blocks-class", "options"),
        "class": Output("blocks-class", "value"),
        "layer_options": Output("blocks-layer", "options"),
        "layer": Output("blocks-layer", "value"),
    }

    @app.callback(outputs, Input("ready-state", "data"), Input("blocks-method", "value"))
    @guarded(outputs)
    def render(ready: dict[str, Any], method: str | None) -> dict[str, Any]:
        view = view_of(service, ready)
        return render_blocks(service, view, method if method in METHODS else "gradxact")

    @app.callback(
        Output("nav-request", "data", allow_duplicate=True),
        Input("blocks-class", "value"),
        Input("blocks-layer", "value"),
        State("ready-state", "data"),
        prevent_initial_call=True,
    )
    def choose(picked: int | None, layer: str | None, ready: dict[str, Any] | None) -> Any:
        if not ready:
            return no_update
        if ctx.triggered_id == "blocks-class" and picked is not None:
            wanted: dict[str, Any] = {"cls": int(picked)}
        elif ctx.triggered_id == "blocks-layer" and layer:
            wanted = {"elayer": layer}
        else:
            return no_update
        return no_update if all(ready.get(k) == v for k, v in wanted.items()) else wanted


def _summary(found: ChannelAttribution) -> html.Div:
    gap = found.logit - found.baseline_logit
    share = abs(found.residual) / abs(gap) if gap else 0.0
    baseline = (_("baseline: this layer's activations set to zero") if found.method == "gradxact"
                else _("baseline: the mean-colour image"))
    return html.Div([
        html.P(_("Class score (logit) {logit}; {baseline}: {base}.").format(
            logit=fmt(found.logit), baseline=baseline, base=fmt(found.baseline_logit)), className="mb-1"),
        html.P(_("The channels' attributions add up to {total}; the rest, {residual} ({share} of the difference), "
                 "is what this method leaves out.").format(total=fmt(float(found.attributions.sum())),
                                                          residual=fmt(found.residual), share=percent(share, 1)),
               className="blocks-residual"),
    ], className="blocks-summary")


def _cards(service: Analyzer, view: LayerView, found: ChannelAttribution, geometry: Any,
           conv: str | None, examples: Any) -> html.Ul:
    chosen = top_channels(found, TOP)
    largest = max((abs(float(found.attributions[c])) for c in chosen), default=0.0)
    cards = []
    for c in chosen:
        value = float(found.attributions[c])
        title = _("channel {channel}").format(channel=c)
        name: Any = (dcc.Link(title, href="/circuit" + encode_state(view.state.with_(layer=conv, filter=c)),
                              className="blocks-link circuit-link") if conv else html.Span(title))
        where = overlay_uri(view.image, np.maximum(found.maps[c], 0), geometry, view.state.colormap, side=150)
        cards.append(html.Li([
            html.H3(name, className="circuit-card-title"),
            html.Div(_("attribution {value}").format(value=fmt(value)), className="circuit-number"),
            bar(abs(value) / largest if largest else 0.0, value >= 0),
            html.Div([picture(where, _("where channel {channel} carries the class").format(channel=c),
                              _("where it carries the class")),
                      featurevis_picture(service, view, conv, c) if conv else None,
                      examples_picture(view, examples, conv, c) if conv else None], className="circuit-pictures"),
        ], className="circuit-card blocks-card"))
    return html.Ul(cards, className="circuit-cards")


def _pooled(maps: np.ndarray) -> np.ndarray:
    """(C, H, W) -> (C, h, w) with h, w <= GRID_SIDE: sums over blocks of cells."""
    _channels, height, width = maps.shape
    rows = np.array_split(np.arange(height), min(height, GRID_SIDE))
    cols = np.array_split(np.arange(width), min(width, GRID_SIDE))
    return np.stack([np.stack([maps[:, r][:, :, c].sum(axis=(1, 2)) for c in cols], axis=-1) for r in rows], axis=-2)


def _spatial(found: ChannelAttribution) -> html.Table:
    pooled = _pooled(found.maps)
    _channels, height, width = pooled.shape
    strongest = float(np.clip(pooled, 0, None).sum(axis=0).max()) or 1.0
    body = []
    for row in range(height):
        cells = []
        for col in range(width):
            column = pooled[:, row, col]
            top = [int(c) for c in np.argsort(-column, kind="stable")[:PER_CELL] if column[c] > 0]
            strength = float(np.clip(column, 0, None).sum()) / strongest
            cells.append(html.Td(" ".join(f"#{c}" for c in top) or "–", className="blocks-cell",
                                 style={"background": f"rgba(214, 97, 0, {0.08 + 0.5 * strength:.2f})"}))
        body.append(html.Tr(cells))
    caption = _("The image in {rows} × {cols} parts (top-left first): in each, the channels that carry the class "
                "most there.").format(rows=height, cols=width)
    return html.Table([html.Caption(caption), html.Tbody(body)], className="blocks-grid")


def render_blocks(service: Analyzer, view: LayerView, method: str) -> dict[str, Any]:
    loaded, top = view.loaded, view.prediction
    cls = view.state.cls if view.state.cls is not None else (top[0]["index"] if top else 0)
    layer = view.evidence_layer()
    found = attribution(service, view.subject.sha, loaded.name, layer.name, int(cls), method)
    geometry = map_geometry(layer.receptive_field, view.input_size, view.image.width, view.image.height)
    label = loaded.categories[int(cls)] if int(cls) < len(loaded.categories) else str(cls)
    conv = walk_layer(service, loaded.name, layer.name)
    examples = scanned_examples(service, view.state.collection, loaded.name)
    body = [
        html.H2(_("Channels of {layer} that carry “{label}”").format(layer=layer.name, label=label),
                className="section-title mt-0 blocks-title"),
        _summary(found),
        examples_hint(view.state.collection if conv else None, conv is not None and examples(conv, 0) is not None),
        _cards(service, view, found, geometry, conv, examples),
        html.H2(_("Where each channel carries it"), className="section-title"),
        _spatial(found),
    ]
    options = [{"label": f"{i} · {name}", "value": i} for i, name in enumerate(loaded.categories)]
    layers = [{"label": e.name, "value": e.name} for e in loaded.evidence_layers()]
    return {"error": None, "body": body, "class_options": options, "class": int(cls), "layer_options": layers,
            "layer": layer.name}
