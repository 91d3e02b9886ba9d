"""Receptive-field patches around a filter's strongest distinct peaks."""

from __future__ import annotations

import numpy as np

from dashapp.analysis.maps.patches import receptive_box, top_patches
from dashapp.analysis.maps.regions import find_regions
from dashapp.analysis.models.capture import capture
from dashapp.analysis.models.graph import ReceptiveField
from dashapp.analysis.models.registry import ModelRegistry
from tests.support.planted import RED, red_square_image


def test_patches_of_red_detector_lie_on_the_square(planted) -> None:
    image = red_square_image(300, 200, box=(60, 50, 120, 110))
    maps = capture(planted, image).responses["conv"]
    info = planted.layers["conv"]
    patches = top_patches(maps[RED], info.receptive_field, planted.input_size, image.width, image.height)
    assert len(patches) == 3
    for patch in patches:
        cx, cy = (patch.x0 + patch.x1) / 2, (patch.y0 + patch.y1) / 2
        assert 55 <= cx <= 125 and 45 <= cy <= 115
    centres = {(p.row, p.col) for p in patches}
    assert len(centres) == 3  # distinct peaks


def test_receptive_box_scales_to_original_pixels(registry: ModelRegistry) -> None:
    info = registry.get("resnet18").layers["conv1"]
    x0, y0, x1, y1 = receptive_box(info.receptive_field, 56, 56, 224, 448, 224)
    # cell (56, 56) of conv1 centres on input pixel 112.5; 7 px wide -> 14 px at 2x width.
    assert (x0, x1) == (218, 232) and (y0, y1) == (109, 116)


def test_patches_respect_the_region_threshold() -> None:
    fmap = np.zeros((20, 20), dtype=np.float32)
    fmap[2, 2], fmap[15, 15], fmap[2, 15] = 10.0, 9.0, 2.0  # the third peak is below half the top
    rf = ReceptiveField.square(size=5.0, jump=1.0, start=0.5)
    result = find_regions(fmap, 200, 200)
    patches = top_patches(fmap, rf, 20, 200, 200, threshold=result.threshold)
    assert [(p.row, p.col) for p in patches] == [(2, 2), (15, 15)]
    assert len(top_patches(fmap, rf, 20, 200, 200)) == 3
