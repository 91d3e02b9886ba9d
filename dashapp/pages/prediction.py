"""Prediction: the model's top-5 ImageNet classes and how sure it is."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, dcc, html

from ..components.widgets import page_header
from ..figures import TOOLBAR, prediction_figure
from ..service import Analyzer
from ..state import encode_state
from ._common import guarded, view_of

PATH = "/prediction"
NAME = "Prediction"
DESCRIPTION = "The model's top-5 ImageNet classes with probabilities."


def certainty(probability: float, runner_up: float) -> str:
    if probability >= 0.8:
        text = "The model is confident"
    elif probability >= 0.5:
        text = "The model is fairly sure"
    elif probability >= 0.2:
        text = "The model is uncertain"
    else:
        text = "The model is guessing"
    margin = probability - runner_up
    return f"{text}: the top class has {probability:.1%}, {margin:.1%} ahead of the next."


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            page_header("Prediction", "What the whole network concludes about the image."),
            html.Div(id="prediction-error"),
            dcc.Loading(html.Div(id="prediction-reading"), type="default", delay_show=300),
            dcc.Graph(id="prediction-chart", config=TOOLBAR),
            html.Div(id="prediction-evidence", className="mb-2"),
            dbc.Card(
                dbc.CardBody([
                    html.H2("About ImageNet", className="card-title imagenet-title"),
                    html.P(
                        "ResNet18 and AlexNet were trained on ImageNet-1k: 1.28 million photos in 1000 categories, "
                        "from 'tench' to 'toilet tissue'. Many categories are fine-grained (about 120 dog breeds), "
                        "and there is no 'other' class: the model always answers with one of the 1000, even for "
                        "an image that shows none of them. Probabilities come from a softmax over all 1000 "
                        "scores, so they sum to 1 and a low top value means the evidence is spread.",
                        className="mb-0",
                    ),
                ]),
                className="mt-3 imagenet-note", id="imagenet-note",
            ),
        ]
    )


def register(app: Dash, service: Analyzer) -> None:
    @app.callback(
        Output("prediction-error", "children"),
        Output("prediction-reading", "children"),
        Output("prediction-chart", "figure"),
        Output("prediction-evidence", "children"),
        Output("imagenet-note", "style"),
        Input("ready-state", "data"),
    )
    @guarded(outputs=5)
    def render(ready: dict[str, Any]) -> tuple[Any, ...]:
        view = view_of(service, ready)
        top = view.prediction
        untrained = not view.loaded.weights.pretrained
        first = top[0]["probability"] if top else 0.0
        second = top[1]["probability"] if len(top) > 1 else 0.0
        parts: list[Any] = [
            html.Div([html.Span("Top class: ", className="text-muted"),
                      html.Strong(top[0]["label"] if top else "—", className="prediction-top")]),
            html.Div(certainty(first, second), className="prediction-certainty"),
        ]
        team = view.loaded.source != "torchvision"
        if team:  # the ImageNet note does not apply to a team's own head
            parts.append(html.Div(f"{view.loaded.name} is a team model: {len(view.loaded.categories)} classes "
                                  "from its own class-names file.", className="text-muted small team-note"))
        if untrained:
            parts.insert(0, dbc.Alert("These numbers are meaningless: the model runs on untrained (random) "
                                      "weights, so its 'prediction' is noise.", color="danger",
                                      className="py-2 meaningless"))
        base = view.state
        links = [html.Span("Where is the evidence? ", className="text-muted")] + [
            dcc.Link(f"{p['label']}", href="/evidence" + encode_state(base.with_(cls=p["index"])),
                     className="me-3 evidence-link")
            for p in top
        ]
        return None, html.Div(parts, className="prediction-reading"), prediction_figure(top, untrained), links, \
            {"display": "none"} if team else None
