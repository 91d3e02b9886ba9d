"""The selected layer's meaning in plain words, under the sidebar's layer
control on every page (``wording/layers.py``): a conv inside a residual
block is its branch alone, before the identity is added."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output

from dashapp.service import Analyzer
from dashapp.wording.layers import layer_meaning


def branch_convs(layers: list[str], name: str) -> int:
    """Convs on the branch of the block holding ``name`` (2 in a BasicBlock, 3 in a Bottleneck)."""
    block = name.rsplit(".", 1)[0]
    return sum(1 for layer in layers if layer.startswith(f"{block}.conv")) or 2


def register(app: Dash, service: Analyzer) -> None:
    # layer-state is view-state passed on only when the model, layer or
    # language changed (assets/js/dashapp.js layerChanged): no request for the
    # other controls.
    @app.callback(Output("layer-meaning", "children"), Input("layer-state", "data"))
    def meaning(view: dict[str, Any] | None) -> str:
        if not isinstance(view, dict) or not isinstance(view.get("layer"), str):
            return ""
        model = view.get("model")
        if model not in service.models.names:
            return ""
        layers = list(service.models.layers(model))
        return layer_meaning(view["layer"], branch_convs(layers, view["layer"])) or ""
