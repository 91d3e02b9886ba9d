"""Ways into the Circuit and Building blocks pages from other pages: the
filter detail page's compact "Inputs and outputs" (the three channels that
feed the filter most at its peak and the three filters it feeds most, each a
link into the Circuit page), and Class evidence's "Which filters carry this
class?"."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, dcc, html

from dashapp.analysis.circuits.circuit import Link, ranked
from dashapp.state.url import encode_state
from dashapp.ui.layout.circuit_cards import input_title, output_title
from dashapp.ui.layout.widgets import fmt

from ..i18n import _
from ..service import Analyzer
from ..service.circuits import filter_circuit
from ._common import guarded, view_of
from .circuit import current_filter, unit_href

SHOWN = 3


def slot() -> html.Div:
    return html.Div([html.H2(_("Inputs and outputs"), className="section-title"),
                     dcc.Loading(html.Div(id="detail-circuit", className="circuit-io"), type="default",
                                 delay_show=300)])


def _items(links: list[Link], title: Any, href: Any) -> html.Ul:
    items = []
    for link in links:
        value = "" if link.contribution is None else f" ({fmt(link.contribution)})"
        name: Any = (dcc.Link(title(link), href=href(link), className="detail-circuit-link")
                     if link.layer is not None and link.kind != "identity" else title(link))
        items.append(html.Li([name, value]))
    return html.Ul(items)


def register(app: Dash, service: Analyzer) -> None:
    @app.callback(Output("detail-circuit", "children"), Input("ready-state", "data"))
    @guarded()
    def render(ready: dict[str, Any]) -> Any:
        view = view_of(service, ready)
        index = current_filter(view)
        found = filter_circuit(service, view.subject.sha, view.loaded.name, view.info.name, index)

        def href(link: Link) -> str:
            return unit_href(view, link.layer or "", link.channel)

        outputs = ranked(found.outputs, "peak", SHOWN)
        return [
            html.Div(_("Feeds it most at its peak:"), className="fw-semibold"),
            _items(ranked(found.inputs, "peak", SHOWN), input_title, href),
            html.Div(_("It feeds most:"), className="fw-semibold"),
            _items(outputs, output_title, href) if outputs else html.P(_("no conv layer (the classifier)")),
            dcc.Link(_("Open the circuit"), href=unit_href(view, found.layer, found.filter),
                     className="detail-circuit-open"),
        ]


def blocks_link(href: str) -> Any:
    return dcc.Link(_("Which filters carry this class?"), href=href, className="blocks-entry")


def register_evidence_link(app: Dash, service: Analyzer) -> None:
    @app.callback(Output("evidence-blocks", "children"), Input("ready-state", "data"))
    @guarded()
    def render(ready: dict[str, Any]) -> Any:
        view = view_of(service, ready)
        top = view.prediction
        cls = view.state.cls if view.state.cls is not None else (top[0]["index"] if top else 0)
        return blocks_link("/blocks" + encode_state(view.state.with_(cls=int(cls), elayer=view.state.elayer)))
