"""Heatmaps: the top filters' responses over the image, and one enlarged."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, ClientsideFunction, Dash, Input, Output, State, dcc, html, no_update

from dashapp.state.schema import MAX_N, RANKING_KEYS, SCHEMA
from dashapp.ui.layout import served
from dashapp.ui.layout.widgets import heatmap_slot, hidden_label, notice_alert, page_header

from ..errors import UserError
from ..i18n import N_, _
from ..service import Analyzer
from ._common import guarded, view_of
from ._layer_bundle import bundle_key, layer_bundle

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
            # The spinner shows while the layer's bundle is on its way.
            dcc.Loading([html.Div([html.Div(id={"type": "heat-cell", "index": rank}, tabIndex="0", role="link",
                                            className="col-12 col-sm-6 heat-cell")
                                   for rank in range(1, MAX_N + 1)], id="heat-grid", className=GRID_CLASS),
                         # The layer, sent once (pages/_layer_bundle.py), the keys of those the
                         # browser holds (assets/js/ranking.js), and the one a first visit's layout holds.
                         dcc.Store(id="heat-layer"), dcc.Store(id="heat-layer-keys"),
                         dcc.Store(id="heat-first")],
                        type="default", delay_show=300),
            # The ranking's base figures and titles, spread over the slots in the browser.
            dcc.Store(id="heat-bases"),
            html.H2(_("Enlarge one"), className="section-title"),
            hidden_label(_("Filter to enlarge"), "heat-pick"),
            dbc.Select(id="heat-pick", size="sm", className="heat-pick"),
            heatmap_slot("heat-big", height=520),
        ]
    )


# Four maps a row from this many on (style.css "heat-wide"), three below.
WIDE_FROM = 7


def grid_class(count: int) -> str:
    return GRID_CLASS if count < WIDE_FROM else f"{GRID_CLASS} heat-wide"


# What drawing the ranked maps reads (assets/js/dashapp.js spreadOver): the shared picture, the
# style controls, the colour scales, and what each slot shows now (its base figure, its figure).
SPREAD_READS = (
    State("shared-picture", "data"),
    State("ctl-opacity", "value"),
    State("ctl-colormap", "value"),
    State("colorscales", "data"),
    State({"type": "fig-base", "index": ALL}, "data"),
    State({"type": "fig", "index": ALL}, "figure"),
)


def register(app: Dash, service: Analyzer) -> None:
    outputs = {
        "error": Output("heat-error", "children"),
        "bundle": Output("heat-layer", "data"),
        "notice": Output("heat-notice", "children"),
    }

    def answer(ready: dict[str, Any], held: list[str]) -> dict[str, Any]:
        view = view_of(service, ready)
        key = bundle_key(view)
        bundle: Any
        if key in held:
            # The browser holds it (assets/js/ranking.js, the one shown last): its key says which.
            bundle = no_update if key == held[-1] else {"key": key}
        else:
            bundle = {**service.memo.get_or_compute(("heat-bundle", key), lambda: layer_bundle(view)),
                      "grid": {"classes": [grid_class(1), grid_class(MAX_N)], "wideFrom": WIDE_FROM}}
        ranking = view.ranking
        return {"error": None, "bundle": bundle, "notice": notice_alert(ranking.notice) if ranking.notice else None}

    # A first visit's layout holds the layer already (ui/layout/served.py), and the key the browser
    # will hold: the ranking draws from it at once, and render has nothing to send.
    def first_data(ready: dict[str, Any]) -> dict[str, dict[str, Any]]:
        try:
            first = answer(ready, [])
        except UserError:
            return {}  # render says why, as on any load
        return {"heat-first": {"data": first["bundle"]}, "heat-layer-keys": {"data": [first["bundle"]["key"]]},
                "heat-notice": {"children": first["notice"]}}

    served.FIRST_DATA[PATH] = first_data

    # The server sends the layer once (pages/_layer_bundle.py) and says, in
    # the reader's language, what the balanced score's rules left out; the
    # ranking and the maps are the browser's (assets/js/ranking.js), so a
    # ranking control's change is drawn before this answer arrives.
    @app.callback(outputs, Input("ready-state", "data"), State("heat-layer-keys", "data"))
    @guarded(outputs)
    def render(ready: dict[str, Any], held: list[str] | None = None) -> dict[str, Any]:
        return answer(ready, held if isinstance(held, list) else [])

    register_drawing(app)


def register_drawing(app: Dash) -> None:
    """The ranking and the maps, in the browser."""
    # The bundle and the ranking controls -> the ranked maps, in the browser
    # (assets/js/ranking.js). It sets what it changes itself (set_props)
    # rather than through declared outputs: Dash holds a callback back while
    # a callback upstream of its inputs is on its way, and every declared
    # output here is downstream of the URL callback (through this page's
    # render), so spread would wait for the server's answer to a ranking change.
    reads = (State("heat-pick", "value"), State({"type": "fig-title", "index": ALL}, "id"),
             State("heat-layer-keys", "data"),
             # What spread reads, to draw a change that keeps the slots in the same pass.
             *SPREAD_READS,
             # The layer a first visit's layout held, until render sends one.
             State("heat-first", "data"))
    app.clientside_callback(
        ClientsideFunction("heat", "rank"),
        Input("heat-layer", "data"),
        *(Input(SCHEMA.controls[key], "value") for key in RANKING_KEYS),
        *reads,
        prevent_initial_call=True,
    )
    # A first visit's layout holds the layer (first_data, in a store no callback sets, so nothing
    # upstream holds this back): drawn as the page mounts, by the same function with the controls
    # read (a callback on the sidebar's controls would fire on every page).
    app.clientside_callback(
        ClientsideFunction("heat", "rank"),
        Input("heat-first", "data"),
        *(State(SCHEMA.controls[key], "value") for key in RANKING_KEYS),
        *reads,
    )

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
        *SPREAD_READS,
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
