"""AlexNet's layers (a plain conv stack, no ResNet names) are explained under
the layer dropdown with facts read from the model itself."""

from __future__ import annotations

from collections.abc import Callable

from dash import Dash

from dashapp import i18n
from dashapp.analysis.models.registry import ModelRegistry
from dashapp.wording.layers import explain_layer
from tests.support.dash_harness import find_callback, run_callback


def test_every_alexnet_layer_offered_has_an_explanation(registry: ModelRegistry) -> None:
    layers = registry.layers("alexnet")
    assert list(layers) == ["features.0", "features.3", "features.6", "features.8", "features.10"]
    for name, info in layers.items():
        text = explain_layer(name, layers, 224)
        assert text is not None and text.startswith(f"{name} is ")
        kernel, field = info.kernel_size, info.receptive_field
        assert f"{kernel[1]}×{kernel[0]} kernels" in text and f"{info.out_channels} filters" in text
        assert f"sees {field.size_x:.0f}×{field.size_y:.0f} px" in text
        assert f"one cell every {field.jump_x:.0f} px" in text and f"({info.activation})" in text
    # The facts of torchvision's AlexNet, as read from the model.
    first, second, fourth = (explain_layer(n, layers, 224) or "" for n in ("features.0", "features.3", "features.8"))
    assert "the first conv of 5 convs: 64 filters of 11×11 kernels, stride 4" in first
    assert "sees 11×11 px of the model's input (224×224), one cell every 4 px" in first
    assert "the second conv" in second and "sees 51×51 px" in second and "every 8 px" in second
    assert "pooling before it" in second and "every 4 px at features.0" in second
    assert "pooling" not in fourth and "sees 131×131 px" in fourth  # no pooling between features.6 and .8
    with i18n.speaking("es"):
        spanish = explain_layer("features.3", layers, 224) or ""
    assert "la segunda convolución" in spanish and "51×51 px" in spanish and " is " not in spanish


def test_the_sidebar_explains_an_alexnet_layer(make_app: Callable[..., Dash]) -> None:
    meaning = find_callback(make_app(), "layer-meaning.children")
    text = run_callback(meaning, "layer-state.data", {"model": "alexnet", "layer": "features.6"})
    assert text.startswith("features.6 is the third conv of 5 convs") and "3×3 kernels" in text
    resnet = run_callback(meaning, "layer-state.data", {"model": "resnet18", "layer": "layer2.0.conv1"})
    assert "inside the branch" in resnet
