"""Any torchvision classifier: layers, response definition and receptive
fields come from the graph, not from per-model code."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dashapp.analysis.maps.stats import filter_stats, rank_filters
from dashapp.analysis.models.capture import capture
from dashapp.analysis.models.registry import ModelError, ModelRegistry
from dashapp.config.settings import SettingsError, load_settings
from tests.conftest import EXAMPLES

MODELS = {
    # name: (a conv layer, the norm after it, the activation after it, sees the image)
    "mobilenet_v3_small": ("features.0.0", "features.0.1", "features.0.2", True),
    "efficientnet_b0": ("features.0.0", "features.0.1", "features.0.2", True),
    "vgg11_bn": ("features.0", "features.1", "features.2", True),
    "densenet121": ("features.conv0", "features.norm0", "features.relu0", True),
}


@pytest.fixture(scope="module")
def more() -> ModelRegistry:
    return ModelRegistry(tuple(MODELS), policy="random", seed=0, device="cpu")


# VGG11-BN (133 M parameters) and DenseNet121 (its 58 concatenating layers) take
# seconds each to build and run: they run in the full suite, not the fast lane.
HEAVY = {"vgg11_bn", "densenet121"}


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow) if name in HEAVY else name
                                  for name in MODELS])
def test_any_torchvision_model_is_described_and_captured(more: ModelRegistry, name: str) -> None:
    loaded = more.get(name)
    conv, norm, activation, sees_image = MODELS[name]
    info = loaded.layers[conv]
    assert (info.norm, info.activation, info.sees_image) == (norm, activation, sees_image)
    assert len(loaded.layers) >= 8 and len(loaded.categories) == 1000
    fields = [layer.receptive_field.size for layer in loaded.layers.values()]
    assert fields[0] == info.kernel_size[0] and max(fields) > 100  # fields grow with depth
    image = Image.open(EXAMPLES / "rocket.jpg").convert("RGB")
    deep = list(loaded.layers)[len(loaded.layers) // 2]
    result = capture(loaded, image, [conv, deep])
    for layer in (conv, deep):
        maps = result.responses[layer]
        assert maps.shape[0] == loaded.layers[layer].out_channels
        assert maps.shape[1:] == loaded.layers[layer].map_size
        assert maps.min() >= 0  # rectified, whatever the activation (SiLU, Hardswish, ReLU)
        assert (maps == 0).mean() > 0.01
    ranking = rank_filters(filter_stats(result.responses[deep]), "balanced", 5, min_sparsity=0.0)
    assert len(ranking.filters) == 5
    assert np.isfinite([f.score for f in ranking.filters]).all()


def test_models_are_enabled_by_name_in_settings() -> None:
    settings = load_settings({"DASHAPP_MODELS": "resnet18, alexnet,squeezenet1_0"})
    assert settings.models == ("resnet18", "alexnet", "squeezenet1_0")
    with pytest.raises(SettingsError, match="DASHAPP_MODELS"):
        load_settings({"DASHAPP_MODELS": "resnet18;rm -rf"})
    with pytest.raises(ModelError, match="not_a_model"):
        ModelRegistry(("resnet18", "not_a_model"), policy="random")


@pytest.mark.slow  # builds VGG11-BN too (133 M parameters)
def test_block_outputs_are_evidence_layers_for_other_families(more: ModelRegistry) -> None:
    from dashapp.analysis.attribution.gradcam import evidence

    mobilenet = more.get("mobilenet_v3_small")
    blocks = [e.name for e in mobilenet.evidence_layers() if e.kind == "block"]
    assert "features.1" in blocks and "features.11" in blocks
    assert not any(name.endswith(".block") or ".block." in name for name in blocks)  # parts of a block are not listed
    efficientnet = more.get("efficientnet_b0")
    kinds = {e.name: e.kind for e in efficientnet.evidence_layers()}
    assert kinds["features.7"] == kinds["features.6.3"] == "block"  # a stage and one of its blocks
    assert not any(e.kind == "block" for e in more.get("vgg11_bn").evidence_layers())
    image = Image.open(EXAMPLES / "rocket.jpg").convert("RGB")
    result = evidence(mobilenet, image, mobilenet.default_evidence_layer, 1)
    assert result.map.shape == mobilenet.blocks[mobilenet.default_evidence_layer].map_size
    assert np.isfinite(result.map).all() and result.map.max() in (0.0, 1.0)
