"""The selected layer's meaning in plain words, under the sidebar's layer
control on every page (``wording/layers.py``): a conv inside a residual
block is its branch alone, before the identity is added; a plain conv stack's
layer (AlexNet's) is told by its kernels, stride and receptive field."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output

from dashapp.service import Analyzer
from dashapp.wording.layers import branch_convs, explain_layer

__all__ = ["branch_convs", "register"]  # branch_convs: the evidence page's import


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
        loaded = service.models.registry.loaded(model)  # the input size, once the model is loaded
        return explain_layer(view["layer"], service.models.layers(model),
                             loaded.input_size if loaded is not None else None) or ""
