"""Heatmaps: the top filters' responses over the image, and one enlarged."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, dcc, html, no_update

from ..components.widgets import heatmap_slot, hidden_label, notice_alert, page_header
from ..service import Analyzer
from ._common import guarded, heatmap_of, view_of

PATH = "/heatmaps"
NAME = "Heatmaps"
DESCRIPTION = "The top filters' activation heatmaps over the image."


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            page_header("Heatmaps", "Where each top filter responds. Hover a map for the value, its percentile and "
                        "the receptive field of that position."),
            html.Div(id="heat-error"),
            html.Div(id="heat-notice"),
            dcc.Loading(html.Div(id="heat-grid", className="heat-grid"), type="default", delay_show=300),
            html.H2("Enlarge one", className="section-title"),
            hidden_label("Filter to enlarge", "heat-pick"),
            dbc.Select(id="heat-pick", size="sm", className="heat-pick"),
            heatmap_slot("heat-big", height=520),
        ]
    )


def _column_width(count: int) -> int:
    return 4 if count <= 6 else 3


def register(app: Dash, service: Analyzer) -> None:
    @app.callback(
        Output("heat-error", "children"),
        Output("heat-grid", "children"),
        Output("heat-notice", "children"),
        Output("heat-pick", "options"),
        Output("heat-pick", "value"),
        Input("ready-state", "data"),
        State("heat-pick", "value"),
    )
    @guarded(outputs=5)
    def render(ready: dict[str, Any], picked: str | None) -> tuple[Any, ...]:
        view = view_of(service, ready)
        ranking = view.ranking
        width = _column_width(len(ranking.filters))
        cells = []
        for ranked in ranking.filters:
            figure = heatmap_of(view, view.maps[ranked.index], ranked.index)
            # The base figure rides inside the new slot: no second round trip.
            slot = heatmap_slot(f"heat-{ranked.rank}", title=f"#{ranked.rank} · filter {ranked.index} · "
                                f"score {ranked.score:.3f} · sparsity {ranked.sparsity:.0%}", figure=figure)
            cells.append(dbc.Col(slot, md=width, sm=6, xs=12))
        options = [{"label": f"#{f.rank} · filter {f.index}", "value": str(f.index)} for f in ranking.filters]
        valid = {o["value"] for o in options}
        value = picked if picked in valid else (options[0]["value"] if options else None)
        notice = notice_alert(ranking.notice) if ranking.notice else None
        return None, dbc.Row(cells, className="g-2"), notice, options, value

    @app.callback(
        Output({"type": "fig-base", "index": "heat-big"}, "data"),
        Output("heat-error", "children", allow_duplicate=True),
        Input("heat-pick", "value"),
        State("ready-state", "data"),
        prevent_initial_call=True,
    )
    @guarded(outputs=2, error_slot=1)
    def enlarge(picked: str, ready: dict[str, Any] | None) -> tuple[Any, Any]:
        if not ready:
            return no_update, no_update
        view = view_of(service, ready)
        if not isinstance(picked, str) or not picked.isascii() or not picked.isdigit():
            return no_update, None
        index = view.check_filter(int(picked))
        return heatmap_of(view, view.maps[index], index, 520), None
