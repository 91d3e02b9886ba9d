"""Overview: prediction, the layer, its global statistics and the top filters."""

from __future__ import annotations

import json
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, ctx, dcc, html, no_update

from dashapp.ui import forged
from dashapp.ui.layout.widgets import fmt, notice_alert, page_header, stat_card

from .. import i18n
from ..i18n import N_, _, ngettext
from ..service import Analyzer
from ._common import guarded, view_of

PATH = "/"
NAME = N_("Overview")
DESCRIPTION = N_("The prediction, the layer's statistics and its top filters.")

# (field, header, d3-format of its numbers; None: a whole number as it is)
COLUMNS: list[tuple[str, str, str | None]] = [
    ("index", N_("Filter"), None),
    ("rank", N_("Rank"), None),
    ("score", N_("Score"), ".3f"),
    ("mean", N_("Mean"), ".3f"),
    ("max", N_("Max"), ".3f"),
    ("std", N_("Std"), ".3f"),
    ("sparsity", N_("Sparsity"), ".0%"),
]


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            page_header(_(NAME), _("What the model sees in this image, and which filters of the layer respond.")),
            html.Div(id="overview-error"),
            dcc.Loading(html.Div(id="overview-cards"), type="default", delay_show=300),
            html.H2(_("Top filters"), className="section-title"),
            html.Div(id="overview-notice"),
            html.Div(dcc.Loading(top_filters_grid(), type="default", delay_show=300)),
            html.Div(_("Click a row (or focus it with Tab and the arrow keys and press Enter) to open that filter's "
                       "detail page. Click a column header to sort."),
                     className="control-help mt-1"),
        ]
    )


def column_defs() -> list[dict[str, Any]]:
    """The grid's columns: right-aligned numbers (the header's sort arrow inside
    its own header), written with the reader's decimal and thousands marks."""
    marks = json.dumps(_number_marks())
    columns = []
    for field, header, spec in COLUMNS:
        column: dict[str, Any] = {"field": field, "headerName": _(header), "type": "rightAligned",
                                  "sortable": True, "minWidth": 84}
        if spec is not None:
            column["valueFormatter"] = {"function": f"d3.formatLocale({marks}).format('{spec}')(params.value)"}
        columns.append(column)
    return columns


def top_filters_grid() -> dag.AgGrid:
    return dag.AgGrid(
        id="overview-table",
        columnDefs=column_defs(),
        rowData=[],
        getRowId="params.data.index",  # AG Grid makes it a string: the click's rowId
        columnSize="responsiveSizeToFit",
        defaultColDef={"suppressMovable": True, "resizable": False},
        # Enter on a focused row opens it, as a click does (assets/js/grid.js).
        eventListeners={"cellKeyDown": ["openRowOnEnter(params, setEventData)"]},
        dashGridOptions={"domLayout": "autoHeight", "animateRows": False,
                         "localeText": {"noRowsToShow": _("No filters to show.")}},
        style={"width": "100%"},
        className="ag-theme-quartz overview-grid",
    )


def _number_marks() -> dict[str, Any]:
    """A d3 number locale in the reader's language (its decimal and thousands marks)."""
    separators = i18n.plotly_separators()  # two characters: the decimal mark, then the thousands mark
    decimal, group = separators[0], separators[1]
    # The percent sign as Babel's percent() writes it: "15%", "15 %" (after a no-break space in Spanish).
    return {"decimal": decimal, "thousands": group, "grouping": [3], "currency": ["", ""],
            "percent": i18n.percent(0).lstrip("0")}


def clicked_filter(click: Any, event: Any, trigger: Any) -> int | None:
    """The filter a row click (``cellClicked``: its row id is the filter) or
    Enter on a row (``eventData``) asks to open; a forged value is a 400.
    None (the grid drawn, nothing clicked yet) opens nothing."""
    if trigger == "overview-table.eventData" and event is not None:
        data = forged.mapping(forged.mapping(event).get("data"))
        return forged.count(data.get("index"))
    if trigger == "overview-table.cellClicked" and click is not None:
        row = forged.mapping(click).get("rowId")
        if not isinstance(row, str) or not row.isdecimal() or len(row) > 6:
            forged.forged()
        return int(row)
    return None


def register(app: Dash, service: Analyzer) -> None:
    outputs = {
        "error": Output("overview-error", "children"),
        "cards": Output("overview-cards", "children"),
        "rows": Output("overview-table", "rowData"),
        "notice": Output("overview-notice", "children"),
    }

    @app.callback(outputs, Input("ready-state", "data"))
    @guarded(outputs)
    def render(ready: dict[str, Any]) -> dict[str, Any]:
        view = view_of(service, ready)
        info, whole, ranking = view.info, view.layer_stats, view.ranking
        untrained = not view.loaded.weights.pretrained
        top = view.prediction[0] if view.prediction else None
        prediction_card = dbc.Card(
            dbc.CardBody([
                html.Div(_("Prediction (untrained: meaningless)") if untrained else _("Prediction"),
                         className="stat-label"),
                html.Div(top["label"] if top else "—", className="prediction-label"),
                html.Div(_("{percent} confidence").format(percent=i18n.percent(top["probability"], 1)) if top else "",
                         className="stat-help"),
            ]),
            className="stat-card prediction-card" + (" untrained" if untrained else ""),
        )
        h, w = info.map_size
        rf = info.receptive_field
        field = (f"{rf.size_x:.0f} px" if rf.size_x == rf.size_y
                 else _("{width}×{height} px (w×h)").format(width=f"{rf.size_x:.0f}", height=f"{rf.size_y:.0f}"))
        layer_card = dbc.Card(
            dbc.CardBody([
                html.Div(_("Layer"), className="stat-label"),
                html.Div(info.name, className="prediction-label"),
                html.Div(ngettext("{n} filter · map {h}×{w} · kernel {kh}×{kw} · receptive field {field}",
                                  "{n} filters · map {h}×{w} · kernel {kh}×{kw} · receptive field {field}",
                                  info.out_channels).format(n=info.out_channels, h=h, w=w, kh=info.kernel_size[0],
                                                            kw=info.kernel_size[1], field=field),
                         className="stat-help"),
            ]),
            className="stat-card",
        )
        cards = html.Div([
            dbc.Row([dbc.Col(prediction_card, md=6), dbc.Col(layer_card, md=6)], className="g-2 mb-2"),
            dbc.Row(
                [
                    dbc.Col(stat_card(_("Mean response"), fmt(whole.mean)), xs=6, md=3),
                    dbc.Col(stat_card(_("Max response"), fmt(whole.max)), xs=6, md=3),
                    dbc.Col(stat_card(_("Std"), fmt(whole.std)), xs=6, md=3),
                    dbc.Col(stat_card(_("Sparsity"), i18n.percent(whole.sparsity), _("share of silent positions")),
                            xs=6, md=3),
                ],
                className="g-2",
            ),
        ])
        notice = notice_alert(ranking.notice) if ranking.notice else None
        rows = [f.as_dict() for f in ranking.filters]
        return {"error": None, "cards": cards, "rows": rows, "notice": notice}

    @app.callback(
        Output("nav-request", "data", allow_duplicate=True),
        Input("overview-table", "cellClicked"),
        Input("overview-table", "eventData"),
        prevent_initial_call=True,
    )
    def open_row(click: Any, event: Any) -> Any:
        index = clicked_filter(click, event, next(iter(ctx.triggered_prop_ids), None))
        return no_update if index is None else {"page": "/detail", "filter": index}
