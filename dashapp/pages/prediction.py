"""Prediction: the model's top-5 ImageNet classes and how sure it is."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, dcc, html

from dashapp.figures.maps import TOOLBAR, prediction_figure
from dashapp.state.url import encode_state
from dashapp.ui.layout.widgets import page_header

from .. import i18n
from ..i18n import N_, _, ngettext
from ..service import Analyzer
from ._common import guarded, view_of

PATH = "/prediction"
NAME = N_("Prediction")
DESCRIPTION = N_("The model's top-5 ImageNet classes with probabilities.")


def certainty(probability: float, runner_up: float) -> str:
    # Whole sentences, one per band: the verb and its complement differ by language.
    if probability >= 0.8:
        text = _("The model is confident: the top class has {top}, {margin} ahead of the next.")
    elif probability >= 0.5:
        text = _("The model is fairly sure: the top class has {top}, {margin} ahead of the next.")
    elif probability >= 0.2:
        text = _("The model is uncertain: the top class has {top}, {margin} ahead of the next.")
    else:
        text = _("The model is guessing: the top class has {top}, {margin} ahead of the next.")
    return text.format(top=i18n.percent(probability, 1), margin=i18n.percent(probability - runner_up, 1))


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            page_header(_(NAME), _("What the whole network concludes about the image.")),
            html.Div(id="prediction-error"),
            dcc.Loading(html.Div(id="prediction-reading"), type="default", delay_show=300),
            dcc.Graph(id="prediction-chart", config=TOOLBAR),
            html.Div(id="prediction-evidence", className="mb-2"),
            dbc.Card(
                dbc.CardBody([
                    html.H2(_("About ImageNet"), className="card-title imagenet-title"),
                    html.P(
                        _("ResNet18 and AlexNet were trained on ImageNet-1k: 1.28 million photos in 1000 categories, "
                          "from 'tench' to 'toilet tissue'. Many categories are fine-grained (about 120 dog breeds), "
                          "and there is no 'other' class: the model always answers with one of the 1000, even for "
                          "an image that shows none of them. Probabilities come from a softmax over all 1000 "
                          "scores, so they sum to 1 and a low top value means the evidence is spread."),
                        className="mb-0",
                    ),
                ]),
                className="mt-3 imagenet-note", id="imagenet-note",
            ),
        ]
    )


def register(app: Dash, service: Analyzer) -> None:
    outputs = {
        "error": Output("prediction-error", "children"),
        "reading": Output("prediction-reading", "children"),
        "chart": Output("prediction-chart", "figure"),
        "links": Output("prediction-evidence", "children"),
        "imagenet_note": Output("imagenet-note", "style"),
    }

    @app.callback(outputs, Input("ready-state", "data"))
    @guarded(outputs)
    def render(ready: dict[str, Any]) -> dict[str, Any]:
        view = view_of(service, ready)
        top = view.prediction
        untrained = not view.loaded.weights.pretrained
        first = top[0]["probability"] if top else 0.0
        second = top[1]["probability"] if len(top) > 1 else 0.0
        parts: list[Any] = [
            html.Div([html.Span(_("Top class:") + " ", className="text-muted"),
                      html.Strong(top[0]["label"] if top else "—", className="prediction-top")]),
            html.Div(certainty(first, second), className="prediction-certainty"),
        ]
        team = view.loaded.source != "torchvision"
        if team:  # the ImageNet note does not apply to a team's own head
            count = len(view.loaded.categories)
            parts.append(html.Div(ngettext("{model} is a team model: {n} class from its own class-names file.",
                                           "{model} is a team model: {n} classes from its own class-names file.",
                                           count).format(model=view.loaded.name, n=count),
                                  className="text-muted small team-note"))
        if untrained:
            parts.insert(0, dbc.Alert(_("These numbers are meaningless: the model runs on untrained (random) "
                                        "weights, so its 'prediction' is noise."), color="danger",
                                      className="py-2 meaningless"))
        base = view.state
        links: list[Any] = [html.Span(_("Where is the evidence?") + " ", className="text-muted")] + [
            dcc.Link(f"{p['label']}", href="/evidence" + encode_state(base.with_(cls=p["index"])),
                     className="me-3 evidence-link")
            for p in top
        ]
        if top:  # which filters carry the top class: the Building blocks page
            links += [html.Br(), dcc.Link(_("Which filters carry this class?"), className="blocks-entry",
                                          href="/blocks" + encode_state(base.with_(cls=top[0]["index"])))]
        return {"error": None, "reading": html.Div(parts, className="prediction-reading"),
                "chart": prediction_figure(top, untrained), "links": links,
                "imagenet_note": {"display": "none"} if team else None}
