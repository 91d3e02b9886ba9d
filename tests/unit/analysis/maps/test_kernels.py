"""RGB pictures of first-layer kernels, and where they do not apply."""

from __future__ import annotations

import numpy as np

from dashapp.analysis.maps.kernels import kernel_pictures
from dashapp.analysis.models.registry import ModelRegistry
from tests.support.planted import BLUE, RED


def test_first_layer_kernel_colours(planted) -> None:
    pictures = kernel_pictures(planted, "conv", [RED, BLUE])
    assert pictures.applies and pictures.rgb is not None and pictures.channels is not None
    red_centre = pictures.rgb[0, 1, 1]
    assert red_centre[0] > 0.9 and red_centre[2] < 0.1 and abs(red_centre[1] - 0.5) < 1e-6
    # One scale for the layer: the weak blue detector looks weaker.
    assert abs(pictures.channels[1, 2, 1, 1]) < abs(pictures.channels[0, 0, 1, 1])


# ---------------------------------------------------------------- real architectures


def test_kernels_do_not_apply_beyond_the_first_layer(registry: ModelRegistry) -> None:
    pictures = kernel_pictures(registry.get("resnet18"), "layer2.0.conv1", [0, 1])
    assert not pictures.applies and pictures.rgb is None
    assert "64 feature maps" in (pictures.reason or "")
    alex = kernel_pictures(registry.get("alexnet"), "features.0", [0, 5, 7])
    assert alex.applies and alex.rgb is not None and alex.rgb.shape == (3, 11, 11, 3)
    assert alex.rgb.min() >= 0 and alex.rgb.max() <= 1
    assert np.isclose(np.abs(alex.channels).max(), 1.0) or np.abs(alex.channels).max() <= 1.0


# ---------------------------------------------------------------- statistics, regions, reading
