"""Browser-side callbacks that keep the words beside each heatmap current."""

from __future__ import annotations

from dash import MATCH, Dash, Input, Output

# The base figure carries its description (figures.heatmap_figure); a new map
# (another filter, layer or image) brings new words with it.
DESCRIBE = """function (base) {
    const meta = base && base.layout && base.layout.meta;
    return meta && meta.description ? meta.description : "";
}"""


def register(app: Dash) -> None:
    app.clientside_callback(
        DESCRIBE,
        Output({"type": "fig-desc", "index": MATCH}, "children"),
        Input({"type": "fig-base", "index": MATCH}, "data"),
    )
