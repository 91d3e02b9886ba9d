"""Layer profile: every conv layer of the model at once, for the current image."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update

from dashapp.figures.maps import TOOLBAR, passing_figure, profile_figure
from dashapp.state.url import encode_state
from dashapp.ui.layout.widgets import page_header

from .. import i18n
from ..i18n import N_, _
from ..service import Analyzer
from ._common import guarded, view_of

PATH = "/profile"
NAME = N_("Layer profile")
DESCRIPTION = N_("Sparsity and response of every conv layer at once.")


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            page_header(_(NAME), _("Every conv layer of the model on this image, from the one stored forward "
                                   "pass. Click a layer's box to open it; click a filter to open its detail page.")),
            html.Div(id="profile-error"),
            dcc.Store(id="profile-layers"),
            dcc.Loading(dcc.Graph(id="profile-sparsity", config=TOOLBAR), type="default", delay_show=300),
            dcc.Graph(id="profile-mean", config=TOOLBAR),
            dcc.Graph(id="profile-passing", config=TOOLBAR),
            html.H2(_("Strongest filters per layer"), className="section-title"),
            html.Div(id="profile-table"),
        ]
    )


def register(app: Dash, service: Analyzer) -> None:
    outputs = {
        "error": Output("profile-error", "children"),
        "sparsity": Output("profile-sparsity", "figure"),
        "mean": Output("profile-mean", "figure"),
        "passing": Output("profile-passing", "figure"),
        "table": Output("profile-table", "children"),
        "layers": Output("profile-layers", "data"),
    }

    @app.callback(outputs, Input("ready-state", "data"))
    @guarded(outputs)
    def render(ready: dict[str, Any]) -> dict[str, Any]:
        view = view_of(service, ready)
        state = view.state
        rows = view.profile()
        names = [r["layer"] for r in rows]
        sparsity = profile_figure(names, [r["sparsity"] for r in rows], _("Sparsity of each filter, per layer"),
                                  current=state.layer)
        mean = profile_figure(names, [r["mean"] for r in rows], _("Mean response of each filter, per layer"),
                              current=state.layer)
        passing = passing_figure(names, [r["passing"] for r in rows], [r["filters"] for r in rows],
                                 state.min_sparsity, current=state.layer)
        base = state

        def link(layer: str, index: int | None = None, page: str = "/detail") -> str:
            return page + encode_state(base.with_(layer=layer, filter=index))

        header = html.Thead(html.Tr([html.Th(_("Layer")), html.Th(_("Filters")), html.Th(_("Pass cutoff")),
                                     html.Th(_("Median sparsity")), html.Th(_("Strongest (by mean)"))]))
        table = dbc.Table(
            [header, html.Tbody([
                html.Tr([
                    html.Td(dcc.Link(r["layer"], href=link(r["layer"], page="/"))),
                    html.Td(r["filters"]),
                    html.Td(r["passing"]),
                    html.Td(i18n.percent(float(np.median(r["sparsity"])))),
                    html.Td([dcc.Link(f"#{i}", href=link(r["layer"], i), className="me-2 profile-filter-link")
                             for i in r["strongest"]]),
                ], className="table-active" if r["layer"] == state.layer else None)
                for r in rows
            ])],
            size="sm", hover=True, responsive=True, className="profile-table",
        )
        return {"error": None, "sparsity": sparsity, "mean": mean, "passing": passing, "table": table,
                "layers": names}

    @app.callback(
        Output("nav-request", "data", allow_duplicate=True),
        Input("profile-sparsity", "clickData"),
        Input("profile-mean", "clickData"),
        Input("profile-passing", "clickData"),
        State("profile-layers", "data"),
        prevent_initial_call=True,
    )
    def open_layer(*args: Any) -> Any:
        *clicks, names = args
        click = dict(zip(("profile-sparsity", "profile-mean", "profile-passing"), clicks, strict=True)).get(
            str(ctx.triggered_id))
        points = (click or {}).get("points") or []
        if not points or not names:
            return no_update
        point = points[0]
        layer = point.get("x") if ctx.triggered_id == "profile-passing" else None
        curve = point.get("curveNumber")
        if layer is None and isinstance(curve, int) and 0 <= curve < len(names):
            layer = names[curve]
        if layer not in names:
            return no_update
        return {"page": "/", "layer": layer}
