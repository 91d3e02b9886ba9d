"""Filter grid: up to 24 filter maps in one view; a click opens the filter."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, dcc, html, no_update

from dashapp.figures.maps import grid_figure
from dashapp.state.schema import MAX_N
from dashapp.state.url import encode_state
from dashapp.ui import forged
from dashapp.ui.layout.widgets import heatmap_slot, notice_alert, page_header, tile_links

from ..i18n import N_, _
from ..service import Analyzer
from ..wording.maps import describe_map
from ._common import guarded, state_of

PATH = "/grid"
NAME = N_("Filter grid")
DESCRIPTION = N_("Up to 24 filter maps of the layer at a glance.")


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            page_header(_(NAME), _("The layer's top {n} filters by the chosen criterion, each labelled with its "
                                   "index and rank. Click a map to open its detail page.").format(n=MAX_N)),
            html.Div(id="grid-error"),
            html.Div(id="grid-notice"),
            dcc.Store(id="grid-filters"),
            dcc.Loading(heatmap_slot("grid"), type="default", delay_show=300),
            html.H2(_("Each map in words"), className="section-title"),
            html.P(_("The same filters as links, for the keyboard and screen readers: each opens its detail page."),
                   className="control-help mb-1"),
            html.Div(id="grid-links"),
        ]
    )


def register(app: Dash, service: Analyzer) -> None:
    outputs = {
        "error": Output("grid-error", "children"),
        "figure": Output({"type": "fig-base", "index": "grid"}, "data"),
        "notice": Output("grid-notice", "children"),
        "filters": Output("grid-filters", "data"),
        "links": Output("grid-links", "children"),
    }

    @app.callback(outputs, Input("ready-state", "data"))
    @guarded(outputs)
    def render(ready: dict[str, Any]) -> dict[str, Any]:
        state = state_of(service, ready)
        view = service.open(state.with_(n=MAX_N))
        ranking, maps = view.ranking, view.maps
        filters = [f.index for f in ranking.filters]
        labels = [_("#{index} · rank {rank}").format(index=f.index, rank=f.rank) for f in ranking.filters]
        figure = grid_figure([maps[i] for i in filters], labels, filters)
        # What a click on tile i opens, as a link that says what the tile shows.
        links = tile_links([(describe_map(maps[f.index], _("Filter {index} (rank {rank})").format(index=f.index,
                                                                                               rank=f.rank)),
                             "/detail" + encode_state(state.with_(filter=f.index))) for f in ranking.filters])
        notice = notice_alert(ranking.notice) if ranking.notice else None
        return {"error": None, "figure": figure, "notice": notice, "filters": filters, "links": links}

    @app.callback(
        Output("nav-request", "data", allow_duplicate=True),
        Input({"type": "fig", "index": "grid"}, "clickData"),
        State("grid-filters", "data"),
        prevent_initial_call=True,
    )
    def open_filter(click: dict[str, Any] | None, filters: list[int] | None) -> Any:
        points = forged.mapping(click or {}).get("points") or []
        if not points or not filters:
            return no_update
        curve = forged.mapping(forged.sequence(points)[0]).get("curveNumber")
        if not isinstance(curve, int) or not 0 <= curve < len(forged.sequence(filters)):
            return no_update
        # Trace i of the grid is filter filters[i].
        return {"page": "/detail", "filter": forged.count(filters[curve])}
