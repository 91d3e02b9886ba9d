"""Callbacks that run in the browser (``assets/js/dashapp.js``): address bar,
links, exports, the balanced controls, and restyling the heatmaps without a
server round trip."""

from __future__ import annotations

from dash import ALL, MATCH, ClientsideFunction, Dash, Input, Output, State

from dashapp.state.schema import SCHEMA
from dashapp.ui.layout.served import PAGES_LOCATION, SERVED_ADDRESS

# The stores that hold the state as it was when the model, the image or the
# layer last changed (set below by modelChanged, imageChanged, layerChanged),
# and which part of the URL callback's answer each holds on a fresh load: the
# served layout starts with them (ui/layout/served.py), so the banner, the
# image and the layer's words are asked for with the page's first callbacks.
LOADED_STORES = {"model-state": "ready", "image-state": "view", "layer-state": "view"}


def register(app: Dash) -> None:
    # Also on load: the served layout holds the address's canonical form (ui/layout/served.py).
    app.clientside_callback(
        ClientsideFunction("cnn", "replaceSearch"),
        Output("url-target", "modified_timestamp"),
        Input("url-target", "data"),
    )
    register_served(app)
    register_nav(app)
    app.clientside_callback(
        ClientsideFunction("cnn", "permalink"),
        Output("permalink", "value"),
        Input("url-target", "data"),
        Input("url", "search"),
        Input("url", "pathname"),
    )
    app.clientside_callback(
        ClientsideFunction("cnn", "exportLinks"),
        Output("export-csv", "href"),
        Output("export-json", "href"),
        Output("export-regions", "href"),
        Input("url-target", "data"),
    )
    app.clientside_callback(
        "function (criterion) { return criterion === 'balanced' ? {} : {display: 'none'}; }",
        Output("balanced-controls", "style"),
        Input("ctl-criterion", "value"),
    )
    # The weights banner depends on the model only, the image caption on the
    # image only: they hear of a change of those, not of every control change
    # (two server calls fewer per change).
    app.clientside_callback(
        ClientsideFunction("cnn", "modelChanged"),
        Output("model-state", "data"),
        Input("ready-state", "data"),
        State("model-state", "data"),
        prevent_initial_call=True,  # a fresh layout holds the state already (LOADED_STORES)
    )
    app.clientside_callback(
        ClientsideFunction("cnn", "imageChanged"),
        Output("image-state", "data"),
        Input("view-state", "data"),
        State("image-state", "data"),
        prevent_initial_call=True,  # a fresh layout holds the state already (LOADED_STORES)
    )
    # The layer's meaning hears of a change of model, layer or language only.
    app.clientside_callback(
        ClientsideFunction("cnn", "layerChanged"),
        Output("layer-state", "data"),
        Input("view-state", "data"),
        State("layer-state", "data"),
        prevent_initial_call=True,  # a fresh layout holds the state already (LOADED_STORES)
    )
    # Opacity and colormap are the browser's alone: the address follows them
    # here, with no server round trip.
    app.clientside_callback(
        ClientsideFunction("cnn", "displaySearch"),
        Output("url-target", "data", allow_duplicate=True),
        # The display fields' controls, then which fields they set (state/schema.py declares both).
        *(Input(control, "value") for control in SCHEMA.display_controls.values()),
        State("display-fields", "data"),
        prevent_initial_call=True,
    )
    register_maps(app)


def register_served(app: Dash) -> None:
    """A layout served for another address than the page was loaded at (its Referer cut to the
    origin): the address is put back (replaceSearch may have written the served state's) and the
    Locations are set to it, which runs the URL callback and the router as on any load."""
    app.clientside_callback(
        """function (served) {
            const entry = performance.getEntriesByType("navigation")[0];
            const loaded = new URL(entry ? entry.name : window.location.href);
            if (typeof served !== "string" || served === loaded.pathname + loaded.search) {
                return Array(4).fill(window.dash_clientside.no_update);
            }
            window.history.replaceState(window.history.state, "", loaded.pathname + loaded.search + loaded.hash);
            return [loaded.pathname, loaded.search, loaded.pathname, loaded.search];
        }""",
        Output("url", "pathname"),
        Output("url", "search"),
        Output(PAGES_LOCATION, "pathname"),
        Output(PAGES_LOCATION, "search"),
        Input(SERVED_ADDRESS, "data"),
    )


def register_nav(app: Dash) -> None:
    """The navbar's links keep the address's query; the filter detail link
    carries the filter on screen (a shared link keeps it when the ranking changes)."""
    app.clientside_callback(
        ClientsideFunction("cnn", "navHrefs"),
        Output({"type": "nav-link", "page": ALL}, "href"),
        Input("url-target", "data"),
        Input("url", "search"),
        Input("filter-on-screen", "data"),
        State({"type": "nav-link", "page": ALL}, "href"),
    )
    # A new analysis state forgets the filter shown; the detail page names the one it draws.
    app.clientside_callback(
        "function () { return null; }",
        Output("filter-on-screen", "data"),
        Input("ready-state", "data"),
        prevent_initial_call=True,  # nothing to forget yet
    )
    app.clientside_callback(
        "function (index) { return Number.isInteger(index) ? index : null; }",
        Output("filter-on-screen", "data", allow_duplicate=True),
        Input("detail-current", "data"),
        prevent_initial_call=True,
    )


def register_maps(app: Dash) -> None:
    """The maps: drawn from their base figures, restyled and answered on hover in the browser."""
    # A map's figure is drawn from its base figure (sent once), in the
    # controls' style; the hover answer and the words for screen readers
    # (the base figure's description) come with it.
    app.clientside_callback(
        ClientsideFunction("cnn", "render"),
        Output({"type": "fig", "index": MATCH}, "figure"),
        Output({"type": "fig-hover", "index": MATCH}, "children"),
        Output({"type": "fig-desc", "index": MATCH}, "children"),
        Input({"type": "fig-base", "index": MATCH}, "data"),
        Input({"type": "fig", "index": MATCH}, "hoverData"),
        Input("shared-picture", "data"),
        State("ctl-opacity", "value"),
        State("ctl-colormap", "value"),
        State({"type": "fig", "index": MATCH}, "figure"),
        State("colorscales", "data"),
    )
    # A style change restyles every map on the page in one go.
    app.clientside_callback(
        ClientsideFunction("cnn", "restyleMaps"),
        Input("ctl-opacity", "value"),
        Input("ctl-colormap", "value"),
        State("colorscales", "data"),
        prevent_initial_call=True,
    )
