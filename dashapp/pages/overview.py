"""Overview: prediction, the layer, its global statistics and the top filters."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.dash_table.DataTable import DataTable

from dashapp.ui import forged
from dashapp.ui.layout.widgets import fmt, notice_alert, page_header, stat_card

from .. import i18n
from ..i18n import N_, _, ngettext
from ..service import Analyzer
from ._common import guarded, view_of

PATH = "/"
NAME = N_("Overview")
DESCRIPTION = N_("The prediction, the layer's statistics and its top filters.")

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
COLUMNS: list[DataTable.Columns] = [
    {"name": N_("Filter"), "id": "index", "type": "numeric"},
    {"name": N_("Rank"), "id": "rank", "type": "numeric"},
    {"name": N_("Score"), "id": "score", "type": "numeric", "format": {"specifier": ".3f"}},
    {"name": N_("Mean"), "id": "mean", "type": "numeric", "format": {"specifier": ".3f"}},
    {"name": N_("Max"), "id": "max", "type": "numeric", "format": {"specifier": ".3f"}},
    {"name": N_("Std"), "id": "std", "type": "numeric", "format": {"specifier": ".3f"}},
    {"name": N_("Sparsity"), "id": "sparsity", "type": "numeric", "format": {"specifier": ".0%"}},
]


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            page_header(_(NAME), _("What the model sees in this image, and which filters of the layer respond.")),
            html.Div(id="overview-error"),
            dcc.Loading(html.Div(id="overview-cards"), type="default", delay_show=300),
            html.H2(_("Top filters"), className="section-title"),
            html.Div(id="overview-notice"),
            html.Div(dcc.Loading(DataTable(
                id="overview-table",
                columns=[{**column, "name": _(str(column["name"]))} for column in COLUMNS],  # each an N_() string
                # The numbers' decimal and thousands marks (d3-format, in the browser).
                locale_format=_number_marks(),
                data=[],
                sort_action="native",
                style_as_list_view=True,
                # On a narrow screen the table scrolls by itself instead of widening the page
                # (the Spanish column names are longer).
                style_table={"overflowX": "auto"},
                style_cell={"padding": "6px 10px", "fontFamily": FONT, "textAlign": "right", "cursor": "pointer"},
                style_header={"fontWeight": "600", "backgroundColor": "#f1f3f5", "textAlign": "right"},
                style_data_conditional=[{"if": {"state": "active"}, "backgroundColor": "#e7f1ff",
                                         "border": "1px solid #0d6efd"}],
                tooltip_duration=None,
            ), type="default", delay_show=300)),
            html.Div(_("Click a row (or Tab to its filter number and press Enter) to open that filter's detail "
                       "page. Click a column header's arrows to sort."),
                     className="control-help mt-1"),
        ]
    )


def _number_marks() -> DataTable.LocaleFormat:
    separators = i18n.plotly_separators()  # two characters: the decimal mark, then the thousands mark
    decimal, group = separators[0], separators[1]
    # The percent sign as Babel's percent() writes it: "15%", "15 %" (after a no-break space in Spanish).
    return {"decimal": decimal, "group": group, "percent": i18n.percent(0).lstrip("0")}


def register(app: Dash, service: Analyzer) -> None:
    outputs = {
        "error": Output("overview-error", "children"),
        "cards": Output("overview-cards", "children"),
        "rows": Output("overview-table", "data"),
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
        Input("overview-table", "active_cell"),
        State("overview-table", "derived_virtual_data"),
        prevent_initial_call=True,
    )
    def open_row(active: dict[str, Any] | None, rows: list[dict[str, Any]] | None) -> Any:
        # derived_virtual_data is the table as shown (sorted), so the row
        # clicked is the row opened.
        if not active or not rows:
            return no_update
        row, rows = forged.count(forged.mapping(active).get("row")), forged.sequence(rows)
        if row >= len(rows):
            return no_update
        return {"page": "/detail", "filter": forged.count(forged.mapping(rows[row]).get("index"))}
