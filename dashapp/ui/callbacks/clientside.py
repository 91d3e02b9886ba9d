"""Callbacks that run in the browser (``assets/js/dashapp.js``): address bar,
links, exports, the balanced controls, and restyling the heatmaps without a
server round trip."""

from __future__ import annotations

from dash import ALL, MATCH, ClientsideFunction, Dash, Input, Output, State

from dashapp.state.schema import SCHEMA


def register(app: Dash) -> None:
    app.clientside_callback(
        ClientsideFunction("cnn", "replaceSearch"),
        Output("url-target", "modified_timestamp"),
        Input("url-target", "data"),
        prevent_initial_call=True,
    )
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
    )
    app.clientside_callback(
        ClientsideFunction("cnn", "imageChanged"),
        Output("image-state", "data"),
        Input("view-state", "data"),
        State("image-state", "data"),
    )
    # The layer's meaning hears of a change of model, layer or language only.
    app.clientside_callback(
        ClientsideFunction("cnn", "layerChanged"),
        Output("layer-state", "data"),
        Input("view-state", "data"),
        State("layer-state", "data"),
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
