"""Circuit: a filter's inputs and outputs on the image, and a walk through
the network. A click on a neighbour moves the circuit to it; the URL (layer,
filter) holds the walk's current unit, so the browser's history walks back."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, dcc, html

from dashapp.analysis.circuits.circuit import RANKINGS, Circuit, Link, ranked
from dashapp.analysis.maps.geometry import map_geometry
from dashapp.figures.circuits import kernel_uri, overlay_uri
from dashapp.state.url import encode_state
from dashapp.ui.layout.circuit_cards import (
    RANK_LABELS,
    card,
    examples_figure,
    examples_hint,
    fill_of,
    input_title,
    link_lines,
    output_title,
    picture,
)
from dashapp.ui.layout.widgets import fmt, page_header

from ..i18n import N_, _
from ..service import Analyzer, LayerView
from ..service.circuits import filter_circuit, scanned_examples
from ._common import guarded, view_of

PATH = "/circuit"
NAME = N_("Circuit")
DESCRIPTION = N_("A filter's inputs and outputs: which channels feed it on this image, and which filters it feeds.")
SHOWN = (6, 12, 0)  # 0: every neighbour
TOLERANCE = 1e-5
PICTURED = 12  # the first cards of a list show their pictures; the rest (with "all") are text, so the page stays light


def layout(**_query: Any) -> html.Div:
    shown = [{"label": str(k) if k else _("all"), "value": k} for k in SHOWN]
    return html.Div([
        page_header(_(NAME), _("Which channels feed this filter on this image, and which filters it feeds. Click a "
                               "neighbour to move the circuit to it; the link holds where you are.")),
        html.Div(id="circuit-error"),
        html.Div([
            html.Fieldset([html.Legend(_("Rank neighbours"), className="circuit-legend"),
                           dbc.RadioItems(id="circuit-rank", inline=True, value="peak", persistence=True,
                                          persistence_type="session",
                                          options=[{"label": _(RANK_LABELS[r]), "value": r} for r in RANKINGS])]),
            html.Fieldset([html.Legend(_("Show"), className="circuit-legend"),
                           dbc.RadioItems(id="circuit-k", inline=True, value=SHOWN[0], persistence=True,
                                          persistence_type="session", options=shown)]),
        ], className="d-flex flex-wrap gap-4 mb-2"),
        dcc.Loading(html.Div(id="circuit-body"), type="default", delay_show=300),
    ])


def register(app: Dash, service: Analyzer) -> None:
    outputs = {"error": Output("circuit-error", "children"), "body": Output("circuit-body", "children")}

    @app.callback(outputs, Input("ready-state", "data"), Input("circuit-rank", "value"), Input("circuit-k", "value"))
    @guarded(outputs)
    def render(ready: dict[str, Any], rank_by: str | None, k: int | None) -> dict[str, Any]:
        view = view_of(service, ready)
        rank_by = rank_by if rank_by in RANKINGS else "peak"
        k = k if isinstance(k, int) and k in SHOWN else SHOWN[0]
        return {"error": None, "body": render_circuit(service, view, rank_by, k)}


def current_filter(view: LayerView) -> int:
    """The state's filter, else the layer's top-ranked one."""
    if view.state.filter is not None:
        return view.check_filter(view.state.filter)
    return view.ranking.filters[0].index if view.ranking.filters else 0


def unit_href(view: LayerView, layer: str, index: int, page: str = PATH) -> str:
    return page + encode_state(view.state.with_(layer=layer, filter=index))


def _map_picture(view: LayerView, layer: str, channel: int, side: int = 120) -> str:
    info = view.loaded.layer(layer)
    geometry = map_geometry(info.receptive_field, view.input_size, view.image.width, view.image.height)
    colormap = view.state.colormap
    return overlay_uri(view.image, view.layer_maps(layer)[channel], geometry, colormap, side=side)


def examples_picture(view: LayerView, examples: Any, layer: str, index: int) -> html.Figure | None:
    """The unit's top examples in the view's scanned collection, each opening that image at the unit."""
    return examples_figure(examples(layer, index), lambda example: "/detail" + encode_state(
        view.state.with_(image=example.image, layer=layer, filter=index)))


def featurevis_picture(service: Analyzer, view: LayerView, layer: str, index: int) -> html.Figure | None:
    """The unit's feature visualization when one is cached (never computed here)."""
    request = service.featurevis.request(view.loaded.name, layer, str(index))
    if service.featurevis.meta(request) is None:
        return None
    return picture(f"/api/featurevis.png?{request.query}",
                   _("feature visualization of {layer} filter {index}").format(layer=layer, index=index),
                   _("visualization"))


def _cards(service: Analyzer, view: LayerView, found: Circuit, links: list[Link], rank_by: str,
           side: str, examples: Any) -> list[Any]:
    total = sum(abs(link.contribution) for link in links if link.contribution is not None)
    values = [abs(v) for link in links if (v := {"peak": link.contribution, "map": link.map_total,
                                                 "weight": link.weight_norm}[rank_by]) is not None]
    largest = max(values, default=0.0)
    scale = max((float(abs(link.kernel).max()) for link in links), default=0.0)
    cards = []
    for rank, link in enumerate(links):
        walkable = link.layer is not None and link.kind not in ("identity",)
        if side == "inputs":
            title = input_title(link)
            kernel_alt = _("kernel slice W[{f}, {c}]: orange weights excite, blue ones inhibit").format(
                f=found.filter, c=link.channel)
        else:
            title = output_title(link)
            kernel_alt = _("kernel slice W[{g}, {f}] of {layer}: orange weights excite, blue ones inhibit").format(
                g=link.channel, f=found.filter, layer=link.layer)
        pictures = []
        if walkable and link.layer is not None and rank < PICTURED:
            pictures.append(picture(_map_picture(view, link.layer, link.channel),
                                    _("response of {layer} filter {index} over the image").format(
                                        layer=link.layer, index=link.channel), _("response")))
        if walkable and link.layer is not None and rank < PICTURED:
            pictures.append(featurevis_picture(service, view, link.layer, link.channel))
            pictures.append(examples_picture(view, examples, link.layer, link.channel))
        if link.kind != "identity" and rank < PICTURED:
            pictures.append(picture(kernel_uri(link.kernel, scale), kernel_alt, _("kernel")))
        href = unit_href(view, link.layer, link.channel) if walkable and link.layer is not None else None
        cards.append(card(title, href, link_lines(link, total, rank_by), fill_of(link, rank_by, largest), pictures,
                          f"circuit-{side}"))
    return cards


def _summary(view: LayerView, found: Circuit) -> html.Div:
    row, col = found.cell
    ok = found.check <= TOLERANCE
    check = _("Check: the contributions plus the bias give the network's own value to a relative {error} "
              "(tolerance 1e-5).").format(error=f"{found.check:.1e}")
    return html.Div([
        html.Figure([html.Img(src=_map_picture(view, found.layer, found.filter, side=280), className="circuit-main",
                              alt=_("response of {layer} filter {index} over the image").format(
                                  layer=found.layer, index=found.filter))], className="circuit-figure"),
        html.Div([
            html.P(_("Response before its activation at the peak cell (row {row}, column {col}): {value}").format(
                row=row, col=col, value=fmt(found.value)), className="circuit-value"),
            html.P(_("Bias, with the BatchNorm folded in: {value}").format(value=fmt(found.bias))),
            html.P(check, className="circuit-check " + ("text-success" if ok else "text-danger")),
            html.P([dcc.Link(_("Open this filter's detail"), href=unit_href(view, found.layer, found.filter,
                                                                          "/detail"), className="circuit-detail")]),
        ]),
    ], className="circuit-summary d-flex flex-wrap gap-3")


def render_circuit(service: Analyzer, view: LayerView, rank_by: str, k: int) -> list[Any]:
    index = current_filter(view)
    found = filter_circuit(service, view.subject.sha, view.loaded.name, view.info.name, index)
    source = found.inputs[0].source if found.inputs else ""
    ranking = _(RANK_LABELS[rank_by])
    inputs, outputs = ranked(found.inputs, rank_by, k), ranked(found.outputs, rank_by, k)
    examples = scanned_examples(service, view.state.collection, view.loaded.name)
    return [
        html.H2(_("{layer} · filter {index}").format(layer=found.layer, index=found.filter),
                className="section-title mt-0 circuit-title"),
        _summary(view, found),
        examples_hint(view.state.collection, examples(found.layer, found.filter) is not None),
        html.H2(_("Inputs"), className="section-title"),
        html.P(_("Channels of {source}, the tensor this conv reads, ranked {ranking}. Contributions are in the units "
                 "of the response before its activation; positive ones raise it.").format(source=source,
                                                                                         ranking=ranking),
               className="control-help"),
        html.Ul(_cards(service, view, found, inputs, rank_by, "inputs", examples), className="circuit-cards"),
        html.H2(_("Outputs"), className="section-title"),
        html.P(_("Filters of the next conv layers that read this filter's channel, ranked {ranking}; a contribution "
                 "is this filter's part of that filter's response at its own peak.").format(ranking=ranking),
               className="control-help"),
        html.Ul(_cards(service, view, found, outputs, rank_by, "outputs", examples), className="circuit-cards")
        if outputs else html.P(_("No conv layer reads this filter's channel: it goes on to the classifier."),
                               className="text-muted"),
    ]
