"""Channel attribution agrees with Captum, and integrated gradients are complete."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import LayerGradientXActivation, LayerIntegratedGradients
from PIL import Image

from dashapp.analysis.attribution import channels
from dashapp.analysis.attribution.channels import STEPS, channel_attribution, layer_module, pooled_decomposition
from dashapp.analysis.models.capture import model_input
from dashapp.analysis.models.registry import ModelRegistry
from tests.conftest import EXAMPLES

CASES = [
    ("resnet18", "layer4", "the last block: what fc reads"),
    ("resnet18", "layer3.1", "a block inside a stage"),
    ("resnet18", "layer2.0.downsample.0", "a shortcut conv: the rows cannot share the block's add"),
    ("alexnet", "features.8", "a conv's response: its in-place ReLU's output"),
]


@pytest.fixture(scope="module")
def image() -> Image.Image:
    return Image.open(EXAMPLES / "chelsea.png").convert("RGB")


def _close(ours: np.ndarray, theirs: np.ndarray) -> None:
    scale = float(np.abs(theirs).max())
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5 * scale)


def _captum(method: str, registry: ModelRegistry, image: Image.Image, model: str, layer: str,
            target: int) -> np.ndarray:
    loaded = registry.get(model)
    module, _source = layer_module(loaded, layer)
    batch = model_input(loaded, image)
    with torch.enable_grad():
        if method == "gradxact":
            result = LayerGradientXActivation(loaded.module, module).attribute(batch, target=target)
        else:
            result = LayerIntegratedGradients(loaded.module, module).attribute(
                batch, baselines=torch.zeros_like(batch), target=target, n_steps=STEPS)
    return result.detach().double().sum(dim=(2, 3))[0].numpy()


@pytest.mark.parametrize(("model", "layer", "why"), CASES)
def test_gradient_x_activation_matches_captum(registry: ModelRegistry, image: Image.Image, model: str, layer: str,
                                              why: str) -> None:
    ours = channel_attribution(registry.get(model), image, layer, 281, "gradxact")
    _close(ours.attributions, _captum("gradxact", registry, image, model, layer, 281))
    assert ours.maps.sum(axis=(1, 2)) == pytest.approx(ours.attributions, rel=1e-4, abs=1e-6), why


EARLY = [
    ("resnet18", "conv1", "the stem: its zero baseline is a pass of its own"),
    ("alexnet", "features.0", "the first conv's in-place ReLU, likewise"),
]


@pytest.mark.parametrize(("model", "layer", "why"), EARLY)
def test_gradient_x_activation_matches_captum_early(registry: ModelRegistry, image: Image.Image, model: str,
                                                    layer: str, why: str) -> None:
    assert channels._early(registry.get(model), layer), why
    ours = channel_attribution(registry.get(model), image, layer, 281, "gradxact")
    _close(ours.attributions, _captum("gradxact", registry, image, model, layer, 281))


@pytest.mark.parametrize("layer", ["layer1.0.conv1", "layer1.0", "conv1"])
def test_the_zero_baseline_apart_equals_it_as_a_second_row(registry: ModelRegistry, image: Image.Image,
                                                          layer: str, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = registry.get("resnet18")
    assert channels._early(loaded, layer)
    apart = channel_attribution(loaded, image, layer, 281, "gradxact")
    monkeypatch.setattr(channels, "_early", lambda *_: False)
    row = channel_attribution(loaded, image, layer, 281, "gradxact")
    assert apart.logit == pytest.approx(row.logit, rel=1e-5)
    assert apart.baseline_logit == pytest.approx(row.baseline_logit, rel=1e-5, abs=1e-5)
    assert apart.baseline_logit != pytest.approx(apart.logit, rel=1e-3)  # A = 0 changes the logit
    _close(apart.attributions, row.attributions)


@pytest.mark.slow
@pytest.mark.parametrize(("model", "layer", "why"), CASES)
def test_integrated_gradients_match_captum_and_are_complete(registry: ModelRegistry, image: Image.Image, model: str,
                                                           layer: str, why: str) -> None:
    ours = channel_attribution(registry.get(model), image, layer, 281, "ig")
    _close(ours.attributions, _captum("ig", registry, image, model, layer, 281))
    gap = ours.logit - ours.baseline_logit
    assert ours.attributions.sum() + ours.residual == pytest.approx(gap, rel=1e-12)
    # 32 Gauss-Legendre points leave a quadrature error: under 1 % at blocks and
    # conv responses; at the shortcut conv (random weights) it measures 1.3 %,
    # which the answer reports as its residual.
    assert abs(ours.residual) <= (0.02 if "shortcut" in why else 0.01) * abs(gap), why


@pytest.mark.slow
def test_ig_baseline_logit_is_the_baseline_images_at_a_block(registry: ModelRegistry, image: Image.Image) -> None:
    loaded = registry.get("resnet18")
    ours = channel_attribution(loaded, image, "layer3", 7, "ig")
    with torch.inference_mode():
        logits = loaded.module(torch.zeros_like(model_input(loaded, image)))
        actual = loaded.module(model_input(loaded, image))
    assert ours.baseline_logit == pytest.approx(float(logits[0, 7]), rel=1e-5)
    assert ours.logit == pytest.approx(float(actual[0, 7]), rel=1e-5)


@pytest.mark.slow
def test_penultimate_identity_is_exact(registry: ModelRegistry, image: Image.Image) -> None:
    loaded = registry.get("resnet18")
    for class_index in (0, 281, 999):
        contributions, bias, logit = pooled_decomposition(loaded, image, class_index)
        assert contributions.sum() + bias == pytest.approx(logit, rel=1e-5, abs=1e-6)
        # The app's gradient × activation at layer4 is that decomposition: complete, no residual.
        ours = channel_attribution(loaded, image, "layer4", class_index, "gradxact")
        _close(ours.attributions, contributions)
        assert ours.baseline_logit == pytest.approx(bias, abs=1e-6)
        assert abs(ours.residual) <= 1e-5 * max(abs(logit), 1.0)


def test_refuses_unknown_method_and_class(registry: ModelRegistry, image: Image.Image) -> None:
    loaded = registry.get("alexnet")
    with pytest.raises(ValueError):
        channel_attribution(loaded, image, "features.8", 0, "saliency")
    with pytest.raises(ValueError):
        channel_attribution(loaded, image, "features.8", 1000, "ig")
    with pytest.raises(ValueError):
        pooled_decomposition(loaded, image, 0)
