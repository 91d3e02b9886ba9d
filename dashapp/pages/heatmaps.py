"""Heatmaps: the top filters' responses over the image, and one enlarged."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, ClientsideFunction, Dash, Input, Output, State, dcc, html

from .. import i18n
from ..components.widgets import heatmap_slot, hidden_label, notice_alert, page_header
from ..i18n import N_, _
from ..service import Analyzer
from ._common import guarded, heatmap_of, view_of

PATH = "/heatmaps"
NAME = N_("Heatmaps")
DESCRIPTION = N_("The top filters' activation heatmaps over the image.")


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            page_header(_(NAME), _("Where each top filter responds. Hover a map for the value, its percentile "
                                   "and the receptive field of that position.")),
            html.Div(id="heat-error"),
            html.Div(id="heat-notice"),
            dcc.Loading(html.Div(id="heat-grid", className="heat-grid"), type="default", delay_show=300),
            html.H2(_("Enlarge one"), className="section-title"),
            hidden_label(_("Filter to enlarge"), "heat-pick"),
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
        # The enlarged map comes in the same answer, so it is drawn with the
        # others rather than after them (the picker's own changes are the
        # browser's: see enlarge below).
        Output({"type": "fig-base", "index": "heat-big"}, "data", allow_duplicate=True),
        Input("ready-state", "data"),
        State("heat-pick", "value"),
        prevent_initial_call="initial_duplicate",
    )
    @guarded(outputs=6)
    def render(ready: dict[str, Any], picked: str | None) -> tuple[Any, ...]:
        view = view_of(service, ready)
        ranking = view.ranking
        width = _column_width(len(ranking.filters))
        cells = []
        for ranked in ranking.filters:
            figure = heatmap_of(view, view.maps[ranked.index], ranked.index)
            # The base figure rides inside the new slot: no second round trip.
            slot = heatmap_slot(f"heat-{ranked.rank}", title=_("#{rank} · filter {index} · score {score} · sparsity "
                                                                "{sparsity}").format(
                rank=ranked.rank, index=ranked.index, score=i18n.number(ranked.score, 3),
                sparsity=i18n.percent(ranked.sparsity)), figure=figure)
            cells.append(dbc.Col(slot, md=width, sm=6, xs=12))
        options = [{"label": _("#{rank} · filter {index}").format(rank=f.rank, index=f.index), "value": str(f.index)}
                   for f in ranking.filters]
        valid = {o["value"] for o in options}
        value = picked if picked in valid else (options[0]["value"] if options else None)
        notice = notice_alert(ranking.notice) if ranking.notice else None
        big = heatmap_of(view, view.maps[int(value)], int(value), 520) if value is not None else None
        return None, dbc.Row(cells, className="g-2"), notice, options, value, big

    # The enlarged map is one of the small ones, drawn taller: the browser
    # copies it from the page instead of asking the server again.
    app.clientside_callback(
        ClientsideFunction("cnn", "enlarge"),
        Output({"type": "fig-base", "index": "heat-big"}, "data"),
        Input("heat-pick", "value"),
        State({"type": "fig-base", "index": ALL}, "data"),
        prevent_initial_call=True,
    )
