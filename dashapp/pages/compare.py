"""Compare: two images (or one image under two models) side by side at one layer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, dcc, html, no_update

from dashapp.analysis.maps.compare import MEASURES, Difference
from dashapp.figures.compare import SIDE_COLOURS, profile_overlay_figure
from dashapp.figures.maps import TOOLBAR, heatmap_figure, picture_uri
from dashapp.state.url import encode_state
from dashapp.ui.attributes import attrs
from dashapp.ui.layout.widgets import fmt, heatmap_slot, notice_alert, page_header

from ..errors import UserError
from ..i18n import N_, _, percent
from ..service import Analyzer, LayerView
from ..service.compare import Comparison, open_pair
from ..service.evidence import EvidenceAnswer
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
            # Filter by filter: only for two models of one architecture (hidden otherwise).
            html.Div([
                html.Div(
                    [html.H2(_("Filters that respond most differently"), className="section-title me-3 mb-0"),
                     html.Fieldset([html.Legend(_("Difference measured"), className="visually-hidden"),
                                    dbc.RadioItems(id="cmp-by", inline=True, value="peak",
                                                   options=[{"label": _(MEASURE_LABELS[m]), "value": m}
                                                            for m in MEASURES])])],
                    className="d-flex flex-wrap align-items-center gap-2 mt-3 mb-2",
                ),
                html.Div(_("Each pair of maps shares one colour scale: the top colour is the larger of the two "
                           "peaks."), className="control-help mb-2"),
            ], id="cmp-filter-head"),
            dcc.Loading(html.Div(id="cmp-filters"), type="default", delay_show=300),
            html.H2(_("Layer profile of both"), className="section-title"),
            dcc.Graph(id="cmp-profile-mean", config=TOOLBAR),
            dcc.Graph(id="cmp-profile-sparsity", config=TOOLBAR),
        ]
    )


def upload_names(options: Any) -> dict[str, str]:
    """image id -> the file name the user uploaded it as, from the sidebar's
    second-image options ("Upload: <name>", ``ui/callbacks/intake.py``)."""
    before, _name, after = _("Upload: {name}").partition("{name}")
    names = {}
    for option in options if isinstance(options, list) else []:
        label, value = (option.get("label"), option.get("value")) if isinstance(option, dict) else (None, None)
        if isinstance(label, str) and isinstance(value, str) and label.startswith(before) and label.endswith(after):
            names[value] = label[len(before):len(label) - len(after)] or value[:8]
    return names


def side_name(service: Analyzer, view: LayerView, uploads: Mapping[str, str] | None = None) -> str:
    sha = view.subject.sha
    image = service.library.example_name(sha) or (uploads or {}).get(sha) or _("image {sha}").format(sha=sha[:8])
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


def _architectures_card(comparison: Comparison) -> dbc.Card:
    """Why two architectures are not compared filter by filter, and what is compared instead."""
    a, b = comparison.a.loaded.name, comparison.b.loaded.name
    return dbc.Card(dbc.CardBody([
        html.H2(_("Two architectures"), className="stat-label mb-1"),
        html.P(_("{a} and {b} have different layers: filter 3 of one is no relative of filter 3 of the other. "
                 "They are compared by what each concludes: the prediction, the evidence for the same class at "
                 "each model's own evidence layer, and the layer profiles.").format(a=a, b=b),
               className="mb-0 small"),
    ]), className="cmp-architectures")


def summary(service: Analyzer, comparison: Comparison, uploads: Mapping[str, str] | None = None) -> dbc.Row:
    a, b = comparison.a, comparison.b
    third = (dbc.Card(dbc.CardBody([html.H2(_("Layer statistics"), className="stat-label mb-1"),
                                    _stats_table(comparison)]))
             if comparison.same_architecture else _architectures_card(comparison))
    return dbc.Row([
        dbc.Col(_side_card("A", side_name(service, a, uploads), a, SIDE_COLOURS[0]), md=4),
        dbc.Col(_side_card("B", side_name(service, b, uploads), b, SIDE_COLOURS[1]), md=4),
        dbc.Col(third, md=4),
    ], className="g-2")


def _evidence_map(view: LayerView, answer: EvidenceAnswer, picture: str | None, subject: str) -> Any:
    image = view.image
    return heatmap_figure(answer.map, picture, image.width, image.height, answer.layer.receptive_field,
                          view.input_size, answer.class_index, height=300, zmax=1.0, subject=subject,
                          quantity="evidence")


def evidence_pair(comparison: Comparison, picture_b: str | None) -> html.Div:
    """Both models' Grad-CAM for the same class, each at its own default evidence layer."""
    evidence = comparison.evidence
    assert evidence is not None
    heading = _("Evidence for “{label}” (Grad-CAM), each model at its own evidence layer").format(
        label=evidence.label)
    cells = []
    for side, view, answer, picture in (("A", comparison.a, evidence.a, None),
                                         ("B", comparison.b, evidence.b, picture_b)):
        if answer is None:
            cells.append(dbc.Col(notice_alert(_("{model} has no class named “{label}”.").format(
                model=view.loaded.name, label=evidence.label)), md=6))
            continue
        subject = _("Model {side} ({model}), evidence for “{label}” at {layer}").format(
            side=side, model=view.loaded.name, label=evidence.label, layer=answer.layer.name)
        title = f"{side}: {view.loaded.name} · {answer.layer.name}"
        if answer.scale <= 0:
            title += " — " + _("no positive evidence at this layer")
        cells.append(dbc.Col(heatmap_slot(f"cmp-evidence-{side.lower()}", title=title,
                                          figure=_evidence_map(view, answer, picture, subject)), md=6))
    return html.Div([html.H2(heading, className="section-title cmp-evidence-title"),
                     dbc.Row(cells, className="g-2")], className="cmp-evidence")


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


def second_model_options(names: Sequence[str], model: str | None) -> list[dict[str, str]]:
    """The sidebar's second models: "the same" once, then every other model
    (the page's own model as its second would compare nothing)."""
    return ([{"label": _("second model: the same"), "value": ""}]
            + [{"label": _("second model: {model}").format(model=m), "value": m} for m in names if m != model])


def register(app: Dash, service: Analyzer) -> None:
    # Asked when the model changes only (model-state: ui/callbacks/clientside.py), not on every control change.
    @app.callback(Output("ctl-model2", "options"), Input("model-state", "data"))
    def second_models(ready: dict[str, Any] | None) -> Any:
        try:
            model = state_of(service, ready or {}).model
        except UserError:
            return no_update  # the page's own callbacks say why
        return second_model_options(service.models.names, model)

    outputs = {
        "error": Output("cmp-error", "children"),
        "notices": Output("cmp-notice", "children"),
        "summary": Output("cmp-summary", "children"),
        "head_hidden": Output("cmp-filter-head", "hidden"),
        "pairs": Output("cmp-filters", "children"),
        "mean": Output("cmp-profile-mean", "figure"),
        "sparsity": Output("cmp-profile-sparsity", "figure"),
    }

    @app.callback(outputs, Input("ready-state", "data"), Input("cmp-by", "value"), State("ctl-image2", "options"))
    @guarded(outputs)
    def render(ready: dict[str, Any], by: str | None, image2_options: Any = None) -> dict[str, Any]:
        uploads = upload_names(image2_options)
        comparison = open_pair(service, state_of(service, ready))
        a, b = comparison.a, comparison.b
        measure = by if by in MEASURES else "peak"
        # A's maps lie over the page's shared picture (the first image); B's
        # carry their own picture when B is another image.
        picture_b = None if comparison.same_image else picture_uri(b.image)
        pairs: list[Any]
        if comparison.same_architecture:
            pairs = [filter_pair(comparison, d, measure, picture_b)
                     for d in comparison.differences(measure, a.state.n)]
            if not pairs:
                pairs = [notice_alert(_("Every filter of this layer is silent on both sides."))]
        else:
            pairs = [evidence_pair(comparison, picture_b)]
        names = [f"A: {side_name(service, a, uploads)}", f"B: {side_name(service, b, uploads)}"]
        profiles = [a.profile(), b.profile()]
        tags = None if comparison.same_architecture else ("A", "B")  # two architectures: each its own layers
        mean = profile_overlay_figure(profiles, names, "mean", _("Mean response of each filter, per layer"), tags)
        sparsity = profile_overlay_figure(profiles, names, "sparsity", _("Sparsity of each filter, per layer"),
                                          tags)
        notices = [notice_alert(text) for text in comparison.notices] or None
        return {"error": None, "notices": notices, "summary": summary(service, comparison, uploads),
                "head_hidden": not comparison.same_architecture, "pairs": pairs, "mean": mean,
                "sparsity": sparsity}
