"""Filter grid: up to 24 filter maps in one view; a click opens the filter."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, dcc, html, no_update

from ..components.widgets import heatmap_slot, notice_alert
from ..figures import grid_figure
from ..service import Analyzer
from ..state import MAX_N
from ._common import guarded, page_header, state_of

PATH = "/grid"
NAME = "Filter grid"
DESCRIPTION = "Up to 24 filter maps of the layer at a glance."


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            page_header("Filter grid", f"The layer's top {MAX_N} filters by the chosen criterion, each labelled with "
                        "its index and rank. Click a map to open its detail page."),
            html.Div(id="grid-error"),
            html.Div(id="grid-notice"),
            dcc.Store(id="grid-filters"),
            dcc.Loading(heatmap_slot("grid"), type="default", delay_show=300),
        ]
    )


def register(app: Dash, service: Analyzer) -> None:
    @app.callback(
        Output("grid-error", "children"),
        Output({"type": "fig-base", "index": "grid"}, "data"),
        Output("grid-notice", "children"),
        Output("grid-filters", "data"),
        Input("ready-state", "data"),
    )
    @guarded(outputs=4)
    def render(ready: dict[str, Any]) -> tuple[Any, ...]:
        view = service.open(state_of(service, ready).with_(n=MAX_N))
        ranking, maps = view.ranking, view.maps
        filters = [f.index for f in ranking.filters]
        labels = [f"#{f.index} · rank {f.rank}" for f in ranking.filters]
        figure = grid_figure([maps[i] for i in filters], labels, filters)
        return None, figure, notice_alert(ranking.notice) if ranking.notice else None, filters

    @app.callback(
        Output("nav-request", "data", allow_duplicate=True),
        Input({"type": "fig", "index": "grid"}, "clickData"),
        State("grid-filters", "data"),
        prevent_initial_call=True,
    )
    def open_filter(click: dict[str, Any] | None, filters: list[int] | None) -> Any:
        points = (click or {}).get("points") or []
        if not points or not filters:
            return no_update
        curve = points[0].get("curveNumber")
        if not isinstance(curve, int) or not 0 <= curve < len(filters):
            return no_update
        # Trace i of the grid is filter filters[i].
        return {"page": "/detail", "filter": int(filters[curve])}
