"""Preprocessing follows the model: its input size and its normalization."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from PIL import Image

from dashapp.analysis.maps.regions import find_regions
from dashapp.analysis.models.capture import capture, model_input, preprocess
from dashapp.analysis.models.registry import ModelRegistry
from tests.conftest import EXAMPLES
from tests.support.planted import EDGE, planted_model, red_square_image


def test_preprocess_normalizes_with_the_given_mean_and_std() -> None:
    image = Image.new("RGB", (10, 6), (255, 51, 0))
    batch = preprocess(image, 8, mean=(0.5, 0.25, 0.0), std=(0.5, 0.25, 2.0))
    assert batch.shape == (1, 3, 8, 8)
    # (x / 255 - mean) / std per channel: (1 - 0.5) / 0.5, (0.2 - 0.25) / 0.25, (0 - 0) / 2.
    expected = torch.tensor([1.0, -0.2, 0.0]).view(1, 3, 1, 1).expand(1, 3, 8, 8)
    torch.testing.assert_close(batch, expected, atol=1e-6, rtol=0)


def test_a_model_gets_its_own_normalization_and_size() -> None:
    loaded = dataclasses.replace(planted_model(), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), input_size=16)
    image = Image.new("RGB", (4, 4), (255, 0, 255))
    batch = model_input(loaded, image)
    assert batch.shape == (1, 3, 16, 16)
    np.testing.assert_allclose(batch[0, :, 0, 0].numpy(), [1.0, 0.0, 1.0])
    imagenet = model_input(planted_model(), image)
    assert not torch.equal(imagenet[:, :, :1, :1], batch[:, :, :1, :1])



def test_edge_detector_fires_on_horizontal_edges_only(planted) -> None:
    image = red_square_image(300, 200, box=(60, 50, 120, 110))
    maps = capture(planted, image).responses["conv"]
    regions = find_regions(maps[EDGE], image.width, image.height).regions
    assert regions
    for region in regions:
        # Thin horizontal strips: much wider than tall.
        assert (region.x1 - region.x0) > 3 * (region.y1 - region.y0)


def test_alexnet_capture_is_a_copy_not_a_view(registry: ModelRegistry) -> None:
    alexnet = registry.get("alexnet")
    image = Image.open(EXAMPLES / "coffee.png").convert("RGB")
    conv = alexnet.module.features[0]
    with torch.no_grad():
        expected = torch.relu(conv(preprocess(image, alexnet.input_size)))[0].numpy()
    # Something downstream rewrites the conv output in place after the hook ran
    # (like the in-place ReLU does): a kept view would see it.
    handle = alexnet.module.features[1].register_forward_hook(lambda _m, _i, out: out.mul_(3.0))
    try:
        captured = capture(alexnet, image).responses["features.0"]
    finally:
        handle.remove()
    np.testing.assert_allclose(captured, expected, rtol=1e-4, atol=1e-5)
    assert (captured == 0).mean() > 0.05  # rectified: real zeros exist


def test_resnet_response_is_rectified_batchnorm_output(registry: ModelRegistry) -> None:
    resnet = registry.get("resnet18")
    image = Image.open(EXAMPLES / "chelsea.png").convert("RGB")
    with torch.no_grad():
        x = preprocess(image, resnet.input_size)
        expected = torch.relu(resnet.module.bn1(resnet.module.conv1(x)))[0].numpy()
    captured = capture(resnet, image).responses["conv1"]
    np.testing.assert_allclose(captured, expected, rtol=1e-4, atol=1e-5)


def test_prediction_is_top5_softmax(registry: ModelRegistry) -> None:
    image = Image.open(EXAMPLES / "rocket.jpg").convert("RGB")
    result = capture(registry.get("resnet18"), image)
    probabilities = [p.probability for p in result.top]
    assert len(result.top) == 5 and probabilities == sorted(probabilities, reverse=True)
    assert all(0 < p < 1 for p in probabilities)
    assert result.weights.pretrained is False
