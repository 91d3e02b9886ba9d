"""Compare: two images (or one image under two models) side by side at one layer."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, dcc, html

from dashapp.analysis.maps.compare import MEASURES, Difference
from dashapp.figures.compare import SIDE_COLOURS, profile_overlay_figure
from dashapp.figures.maps import TOOLBAR, heatmap_figure, picture_uri
from dashapp.state.url import encode_state
from dashapp.ui.attributes import attrs
from dashapp.ui.layout.widgets import fmt, heatmap_slot, notice_alert, page_header

from ..i18n import N_, _, percent
from ..service import Analyzer, LayerView
from ..service.compare import Comparison, open_pair
from ._common import guarded, state_of

PATH = "/compare"
NAME = N_("Compare")
DESCRIPTION = N_("Two images, or one image under two models, side by side at the same layer.")
MEASURE_LABELS = {"peak": N_("by peak response"), "mean": N_("by mean response")}
MEASURE_WORDS = {"peak": N_("peak"), "mean": N_("mean")}  # "A: peak 3.2"


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            page_header(_(NAME), _("Why did it call this one a dog and that one a cat? The same layer for two "
                        "images, or for one image under two models. Choose the second under “Compare with” in "
                        "the sidebar.")),
            html.Div(id="cmp-error"),
            html.Div(id="cmp-notice"),
            dcc.Loading(html.Div(id="cmp-summary"), type="default", delay_show=300),
            html.Div(
                [html.H2(_("Filters that respond most differently"), className="section-title me-3 mb-0"),
                 html.Fieldset([html.Legend(_("Difference measured"), className="visually-hidden"),
                                dbc.RadioItems(id="cmp-by", inline=True, value="peak",
                                               options=[{"label": _(MEASURE_LABELS[m]), "value": m}
                                                        for m in MEASURES])])],
                className="d-flex flex-wrap align-items-center gap-2 mt-3 mb-2",
            ),
            html.Div(_("Each pair of maps shares one colour scale: the top colour is the larger of the two peaks."),
                     className="control-help mb-2"),
            dcc.Loading(html.Div(id="cmp-filters"), type="default", delay_show=300),
            html.H2(_("Layer profile of both"), className="section-title"),
            dcc.Graph(id="cmp-profile-mean", config=TOOLBAR),
            dcc.Graph(id="cmp-profile-sparsity", config=TOOLBAR),
        ]
    )


def side_name(service: Analyzer, view: LayerView) -> str:
    image = service.library.example_name(view.subject.sha) or _("image {sha}").format(sha=view.subject.sha[:8])
    return f"{image.rsplit('.', 1)[0]} · {view.loaded.name}"


def _side_card(label: str, name: str, view: LayerView, colour: str) -> dbc.Card:
    top = view.prediction[:3]
    heading = _("Prediction") if view.loaded.weights.pretrained else _("Prediction (untrained weights: meaningless)")
    return dbc.Card(dbc.CardBody([
        html.H2([html.Span(label, className="cmp-side-badge", style={"background": colour}),
                 html.Strong(name, className="ms-2")], className="cmp-side-title d-flex align-items-center mb-2"),
        html.Img(src=picture_uri(view.image, 200), className="cmp-thumb", alt=name),
        html.H3(heading, className="stat-label mt-2"),
        html.Ol([html.Li(f"{p['label']} · {percent(p['probability'], 1)}") for p in top],
                className="cmp-prediction mb-0"),
    ]), className=f"cmp-side cmp-side-{label.lower()}")


def _stats_table(comparison: Comparison) -> dbc.Table:
    a, b = comparison.a.layer_stats, comparison.b.layer_stats
    rows = [(_("Mean response"), fmt(a.mean), fmt(b.mean)), (_("Max response"), fmt(a.max), fmt(b.max)),
            (_("Std"), fmt(a.std), fmt(b.std)), (_("Sparsity"), percent(a.sparsity), percent(b.sparsity))]
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(comparison.a.info.name), html.Th("A"), html.Th("B")])),
         html.Tbody([html.Tr([html.Td(label), html.Td(x), html.Td(y)]) for label, x, y in rows])],
        size="sm", bordered=False, className="cmp-stats mb-0",
    )


def summary(service: Analyzer, comparison: Comparison) -> dbc.Row:
    a, b = comparison.a, comparison.b
    return dbc.Row([
        dbc.Col(_side_card("A", side_name(service, a), a, SIDE_COLOURS[0]), md=4),
        dbc.Col(_side_card("B", side_name(service, b), b, SIDE_COLOURS[1]), md=4),
        dbc.Col(dbc.Card(dbc.CardBody([html.H2(_("Layer statistics"), className="stat-label mb-1"),
                                       _stats_table(comparison)])), md=4),
    ], className="g-2")


def _map(view: LayerView, index: int, zmax: float, picture: str | None, side: str) -> Any:
    image = view.image
    subject = _("Image {side}, filter {index}").format(side=side, index=index)
    return heatmap_figure(view.maps[index], picture, image.width, image.height, view.info.receptive_field,
                          view.input_size, index, height=230, zmax=zmax, subject=subject)


def filter_pair(comparison: Comparison, diff: Difference, measure: str, picture_b: str | None) -> html.Div:
    """Both maps of one filter on one colour scale, each with a link to its detail."""
    a, b = comparison.a, comparison.b
    i = diff.index
    zmax = max(float(a.stats.max[i]), float(b.stats.max[i]))
    links = {
        "A": "/detail" + encode_state(a.state.with_(filter=i)),
        "B": "/detail" + encode_state(comparison.swapped_state(i)),
    }
    cells = []
    for side, view, picture in (("A", a, None), ("B", b, picture_b)):
        value = fmt(diff.a if side == "A" else diff.b)
        title = html.Span([f"{side}: {_(MEASURE_WORDS.get(measure, measure))} {value} · ",
                           dcc.Link(_("open detail"), href=links[side], className=f"cmp-detail-{side.lower()}")])
        cells.append(dbc.Col(heatmap_slot(f"cmp-{side.lower()}-{i}", title=title,
                                          figure=_map(view, i, zmax, picture, side)), md=6))
    delta = fmt(diff.delta) if diff.delta < 0 else "+" + fmt(diff.delta)
    heading = _("Filter {index} · B − A = {delta} · shared scale 0–{zmax}").format(index=i, delta=delta,
                                                                                   zmax=fmt(zmax))
    return html.Div([html.H3(heading, className="cmp-filter-title"), dbc.Row(cells, className="g-2")],
                    className="cmp-filter", **attrs(data_filter=str(i), data_zmax=f"{zmax:.6g}"))


def register(app: Dash, service: Analyzer) -> None:
    outputs = {
        "error": Output("cmp-error", "children"),
        "notices": Output("cmp-notice", "children"),
        "summary": Output("cmp-summary", "children"),
        "pairs": Output("cmp-filters", "children"),
        "mean": Output("cmp-profile-mean", "figure"),
        "sparsity": Output("cmp-profile-sparsity", "figure"),
    }

    @app.callback(outputs, Input("ready-state", "data"), Input("cmp-by", "value"))
    @guarded(outputs)
    def render(ready: dict[str, Any], by: str | None) -> dict[str, Any]:
        comparison = open_pair(service, state_of(service, ready))
        a, b = comparison.a, comparison.b
        measure = by if by in MEASURES else "peak"
        # A's maps lie over the page's shared picture (the first image); B's
        # carry their own picture when B is another image.
        picture_b = None if comparison.same_image else picture_uri(b.image)
        pairs = [filter_pair(comparison, d, measure, picture_b)
                 for d in comparison.differences(measure, a.state.n)]
        if not pairs:
            pairs = [notice_alert(_("Every filter of this layer is silent on both sides."))]
        names = [f"A: {side_name(service, a)}", f"B: {side_name(service, b)}"]
        profiles = [a.profile(), b.profile()]
        mean = profile_overlay_figure(profiles, names, "mean", _("Mean response of each filter, per layer"))
        sparsity = profile_overlay_figure(profiles, names, "sparsity", _("Sparsity of each filter, per layer"))
        notices = [notice_alert(text) for text in comparison.notices] or None
        return {"error": None, "notices": notices, "summary": summary(service, comparison), "pairs": pairs,
                "mean": mean, "sparsity": sparsity}
