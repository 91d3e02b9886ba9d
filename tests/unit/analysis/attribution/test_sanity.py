"""The cascading model-randomization check: SSIM against its formula, the
cascade's steps, a check that fails on purpose, NaN never passing, and the
shared model left alone."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage

from dashapp.analysis.attribution.gradcam import evidence
from dashapp.analysis.attribution.sanity import (
    THRESHOLD,
    SanityStep,
    cascade,
    evidence_sanity,
    rank_correlation,
    sanity_check,
    ssim,
    verdict,
)
from dashapp.analysis.models.registry import LoadedModel, ModelRegistry
from tests.conftest import EXAMPLES

C1, C2 = 0.01**2, 0.03**2


def chelsea() -> Image.Image:
    return Image.open(EXAMPLES / "chelsea.png").convert("RGB")


# ---------------------------------------------------------------- SSIM


def test_ssim_identities_and_hand_computed_cases() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((13, 13))
    y = np.clip(x + rng.normal(0, 0.3, x.shape), 0, 1)
    assert ssim(x, x) == pytest.approx(1.0)
    assert ssim(x, y) == pytest.approx(ssim(y, x))
    assert ssim(x, y) < 0.9
    # Constant maps: no variance, so SSIM is the luminance term (2 mx my + C1) / (mx² + my² + C1) times C2/C2.
    a, b = np.full((7, 7), 0.2), np.full((7, 7), 0.4)
    assert ssim(a, b) == pytest.approx((2 * 0.2 * 0.4 + C1) / (0.2**2 + 0.4**2 + C1))
    assert ssim(np.zeros((7, 7)), np.ones((7, 7))) == pytest.approx(C1 / (1 + C1))
    # An inverted pattern with the same mean: structure term negative.
    assert ssim(x, 1 - x) < 0


def test_rank_correlation_is_undefined_for_constant_maps() -> None:
    x = np.arange(16.0).reshape(4, 4)
    assert rank_correlation(x, x) == pytest.approx(1.0)
    assert rank_correlation(x, -x) == pytest.approx(1.0)  # absolute: an inverted map is the same picture
    assert rank_correlation(x, np.zeros((4, 4))) is None
    assert rank_correlation(np.ones((4, 4)), x) is None


def test_undefined_correlation_never_passes() -> None:
    x = np.arange(16.0).reshape(4, 4)
    assert verdict(np.zeros((4, 4)), [SanityStep("fc", 0.1, 0.0)])[0] == "undecided"
    assert verdict(np.zeros((4, 4)), [SanityStep("fc", 0.1, 0.0)]) == ("undecided", "constant_original")
    assert verdict(x, [SanityStep("fc", 0.1, 0.2), SanityStep("layer4.1", None, 0.0)]) == ("undecided", "vanished")
    assert verdict(x, [SanityStep("fc", THRESHOLD - 0.01, 0.0)])[0] == "passed"
    assert verdict(x, [SanityStep("fc", THRESHOLD, 0.9)])[0] == "failed"
    assert verdict(x, []) == ("undecided", "nothing_to_randomize")


# ---------------------------------------------------------------- the cascade


def test_cascade_goes_top_down_one_block_at_a_time(registry: ModelRegistry) -> None:
    resnet = registry.get("resnet18")
    steps = cascade(resnet, "layer4.1.conv2")
    names = [unit for unit, _ in steps]
    assert names == ["fc", "layer4.1", "layer4.0", "layer3.1", "layer3.0", "layer2.1", "layer2.0",
                     "layer1.1", "layer1.0", "conv1"]
    modules = {name for _, members in steps for name in members}
    # Never the layer itself or its BatchNorm; the rest of its block is randomized.
    assert "layer4.1.conv2" not in modules and "layer4.1.bn2" not in modules
    assert {"layer4.1.conv1", "layer4.1.bn1", "layer4.0.downsample.0", "bn1"} <= modules
    block = [unit for unit, _ in cascade(resnet, "layer4")]
    assert block[0] == "fc" and not any(u.startswith("layer4") for u in block)
    alexnet = [unit for unit, _ in cascade(registry.get("alexnet"), "features.6")]
    assert alexnet == ["classifier.6", "classifier.4", "classifier.1", "features.10", "features.8",
                       "features.3", "features.0"]


@pytest.mark.slow
def test_deep_conv_layer_randomizes_more_than_fc(registry: ModelRegistry) -> None:
    resnet = registry.get("resnet18")
    result = evidence_sanity(resnet, chelsea(), "layer4.1.conv2", 281)
    assert [s.randomized for s in result.steps][:3] == ["fc", "layer4.1", "layer4.0"]
    assert all(s.spearman is not None and np.isfinite(s.spearman) for s in result.steps)
    assert all(np.isfinite(s.ssim) for s in result.steps)


@pytest.mark.slow
def test_grad_cam_passes_and_the_shared_model_is_untouched(registry: ModelRegistry) -> None:
    resnet = registry.get("resnet18")
    image = chelsea()
    weights = {k: v.clone() for k, v in resnet.module.state_dict().items()}
    before = evidence(resnet, image, "layer4", 281)
    seen: list[tuple[int, int]] = []
    result = evidence_sanity(resnet, image, "layer4", 281, progress=lambda done, total: seen.append((done, total)))
    assert result.verdict == "passed", result.reason
    assert result.steps[-1].spearman is not None and result.steps[-1].spearman < THRESHOLD
    assert result.reason == "below_threshold" and result.as_dict()["reason"] == "below_threshold"
    assert seen == [(i, len(result.steps)) for i in range(1, len(result.steps) + 1)]
    for key, value in resnet.module.state_dict().items():
        assert torch.equal(value, weights[key]), key
    assert all(not m._forward_hooks for m in resnet.module.modules())
    np.testing.assert_array_equal(evidence(resnet, image, "layer4", 281).map, before.map)


def sobel_edges(image: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """An "explanation" that never looks at the model: edge strength of the image."""
    grey = np.asarray(image.convert("L").resize((size[1], size[0]), Image.Resampling.BILINEAR), dtype=np.float64)
    return np.hypot(ndimage.sobel(grey, axis=0), ndimage.sobel(grey, axis=1))


def test_an_explanation_that_ignores_the_model_fails(registry: ModelRegistry) -> None:
    alexnet = registry.get("alexnet")
    image = chelsea()
    calls: list[LoadedModel] = []

    def edges(model: LoadedModel) -> np.ndarray:
        calls.append(model)
        return sobel_edges(image, model.layers["features.10"].map_size)

    result = sanity_check(alexnet, "features.10", edges)
    assert result.verdict == "failed" and not result.passed
    assert all(s.spearman == pytest.approx(1.0) and s.ssim == pytest.approx(1.0) for s in result.steps)
    assert result.reason == "above_threshold"
    assert calls and all(model.module is not alexnet.module for model in calls)  # a private copy


@pytest.mark.slow
def test_concurrent_requests_see_the_trained_model(registry: ModelRegistry) -> None:
    alexnet = registry.get("alexnet")
    image = chelsea()
    expected = evidence(alexnet, image, "features.10", 281).map
    thread = threading.Thread(target=evidence_sanity, args=(alexnet, image, "features.10", 281))
    thread.start()
    seen = []
    while thread.is_alive() or not seen:
        seen.append(evidence(alexnet, image, "features.10", 281).map)
    thread.join()
    for got in seen:
        np.testing.assert_array_equal(got, expected)
