"""Heatmaps: the top filters' responses over the image, and one enlarged."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, ClientsideFunction, Dash, Input, Output, State, dcc, html, no_update

from dashapp.state.schema import MAX_N
from dashapp.ui.layout.widgets import heatmap_slot, hidden_label, notice_alert, page_header

from .. import i18n
from ..i18n import N_, _
from ..service import Analyzer
from ._common import guarded, heatmap_of, view_of

PATH = "/heatmaps"
NAME = N_("Heatmaps")
DESCRIPTION = N_("The top filters' activation heatmaps over the image.")

# Bootstrap's row with small gutters; "heat-wide" puts 4 maps a row instead of 3 (style.css).
GRID_CLASS = "row g-2 heat-grid"


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            # A touch screen has no hover: it reads "Tap" (style.css shows one of the two).
            page_header(_(NAME), [
                html.Span(_("Where each top filter responds. Hover a map for the value, its percentile "
                            "and the receptive field of that position; click a map (or press Enter on it) "
                            "to open its filter."), className="when-hover"),
                html.Span(_("Where each top filter responds. Tap a map to open its filter: its numbers, "
                            "regions and reading."), className="when-touch"),
            ]),
            html.Div(id="heat-error"),
            html.Div(id="heat-notice"),
            # One cell per possible map, laid once: a slot is put in a cell or
            # taken out of it, and the others are left as they are (style.css
            # hides an empty cell).
            # A card opens its filter's detail page: a click on its map, or
            # Enter on the focused card (assets/js/dashapp.js openMap).
            dcc.Loading(html.Div([html.Div(id={"type": "heat-cell", "index": rank}, tabIndex="0", role="link",
                                           className="col-12 col-sm-6 heat-cell")
                                  for rank in range(1, MAX_N + 1)], id="heat-grid", className=GRID_CLASS),
                        type="default", delay_show=300),
            # The ranking's base figures and titles, spread over the slots in the browser.
            dcc.Store(id="heat-bases"),
            html.H2(_("Enlarge one"), className="section-title"),
            hidden_label(_("Filter to enlarge"), "heat-pick"),
            dbc.Select(id="heat-pick", size="sm", className="heat-pick"),
            heatmap_slot("heat-big", height=520),
        ]
    )


def grid_class(count: int) -> str:
    return GRID_CLASS if count <= 6 else f"{GRID_CLASS} heat-wide"


def cell_changes(shown: set[int], wanted: int) -> list[Any]:
    """The children of each cell for ``wanted`` maps when the cells ranked
    ``shown`` hold a slot: an empty slot where one is missing (its figure and
    title come from ``heat-bases``, assets/js/dashapp.js spread), none where one
    is too many, and the rest left alone, so their graphs stay mounted and are
    patched by Plotly.react instead of being drawn anew."""
    changes: list[Any] = []
    for rank in range(1, MAX_N + 1):
        if rank <= wanted and rank not in shown:
            # The hidden button is Enter's way to the card's filter (pressed by assets/js/dashapp.js).
            changes.append([heatmap_slot(f"heat-{rank}", title=""),
                            html.Button(id={"type": "heat-open", "index": f"heat-{rank}"}, n_clicks=0, hidden=True,
                                        tabIndex="-1", className="heat-open")])
        elif rank > wanted and rank in shown:
            # [] rather than None: Dash's renderer forgets the removed
            # components' ids only for a children value that is truthy.
            changes.append([])
        else:
            changes.append(no_update)
    return changes


def shown_ranks(title_ids: list[Any] | None) -> set[int]:
    """The ranks whose slot is on the page (from the slots' title ids, as the browser sent them)."""
    ranks = set()
    for tid in title_ids or []:
        index = str(tid.get("index", "")) if isinstance(tid, dict) else ""
        if index.startswith("heat-") and index[5:].isdigit():
            ranks.add(int(index[5:]))
    return ranks


def register(app: Dash, service: Analyzer) -> None:
    outputs = {
        "error": Output("heat-error", "children"),
        "cells": Output({"type": "heat-cell", "index": ALL}, "children"),
        "grid_class": Output("heat-grid", "className"),
        "bases": Output("heat-bases", "data"),
        "notice": Output("heat-notice", "children"),
        "options": Output("heat-pick", "options"),
        "picked": Output("heat-pick", "value"),
    }

    @app.callback(outputs, Input("ready-state", "data"), State("heat-pick", "value"),
                  State({"type": "fig-title", "index": ALL}, "id"))
    @guarded(outputs)
    def render(ready: dict[str, Any], picked: str | None, title_ids: list[Any] | None = None) -> dict[str, Any]:
        view = view_of(service, ready)
        ranking = view.ranking
        figures, titles = [], []
        for ranked in ranking.filters:
            figures.append(heatmap_of(view, view.maps[ranked.index], ranked.index))
            titles.append(_("#{rank} · filter {index} · score {score} · sparsity {sparsity}").format(
                rank=ranked.rank, index=ranked.index, score=i18n.number(ranked.score, 3),
                sparsity=i18n.percent(ranked.sparsity)))
        options = [{"label": _("#{rank} · filter {index}").format(rank=f.rank, index=f.index), "value": str(f.index)}
                   for f in ranking.filters]
        valid = {o["value"] for o in options}
        value = picked if picked in valid else (options[0]["value"] if options else None)
        notice = notice_alert(ranking.notice) if ranking.notice else None
        count = len(figures)
        return {"error": None, "cells": cell_changes(shown_ranks(title_ids), count), "grid_class": grid_class(count),
                "bases": {"figures": figures, "titles": titles}, "notice": notice, "options": options,
                "picked": value}

    # The base figures go to their slots, and the picked one, taller, to the
    # enlarged slot, in the browser: one server answer per change, and a slot
    # already showing its map is left alone. The maps that changed are drawn
    # in the same pass (words and hover answer included), not by a second
    # callback per slot.
    app.clientside_callback(
        ClientsideFunction("cnn", "spread"),
        Output({"type": "fig-base", "index": ALL}, "data", allow_duplicate=True),
        Output({"type": "fig-title", "index": ALL}, "children"),
        Output({"type": "fig", "index": ALL}, "figure", allow_duplicate=True),
        Output({"type": "fig-hover", "index": ALL}, "children", allow_duplicate=True),
        Output({"type": "fig-desc", "index": ALL}, "children", allow_duplicate=True),
        Input("heat-bases", "data"),
        Input("heat-pick", "value"),
        State("shared-picture", "data"),
        State("ctl-opacity", "value"),
        State("ctl-colormap", "value"),
        State("colorscales", "data"),
        State({"type": "fig-base", "index": ALL}, "data"),
        State({"type": "fig", "index": ALL}, "figure"),
        prevent_initial_call=True,
    )

    # A click on a map (or Enter on its card) -> that filter's detail page,
    # through the URL callback's navigation (state/transitions.py Navigated).
    app.clientside_callback(
        ClientsideFunction("cnn", "openMap"),
        Output("nav-request", "data", allow_duplicate=True),
        Input({"type": "fig", "index": ALL}, "clickData"),
        Input({"type": "heat-open", "index": ALL}, "n_clicks"),
        State({"type": "fig-base", "index": ALL}, "data"),
        State({"type": "fig-base", "index": ALL}, "id"),
        prevent_initial_call=True,
    )
