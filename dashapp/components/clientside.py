"""Callbacks that run in the browser (``assets/dashapp.js``): address bar,
links, exports, the balanced controls, and restyling the heatmaps without a
server round trip."""

from __future__ import annotations

from dash import ALL, MATCH, ClientsideFunction, Dash, Input, Output, State


def register(app: Dash) -> None:
    app.clientside_callback(
        ClientsideFunction("cnn", "replaceSearch"),
        Output("url-target", "modified_timestamp"),
        Input("url-target", "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("cnn", "navHrefs"),
        Output({"type": "nav-link", "page": ALL}, "href"),
        Input("url-target", "data"),
        Input("url", "search"),
        State({"type": "nav-link", "page": ALL}, "href"),
    )
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
    app.clientside_callback(
        ClientsideFunction("cnn", "render"),
        Output({"type": "fig", "index": MATCH}, "figure"),
        Output({"type": "fig-hover", "index": MATCH}, "children"),
        Input({"type": "fig-base", "index": MATCH}, "data"),
        Input("ctl-opacity", "value"),
        Input("ctl-colormap", "value"),
        Input({"type": "fig", "index": MATCH}, "hoverData"),
        Input("shared-picture", "data"),
    )
