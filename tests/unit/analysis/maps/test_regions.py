"""Activation regions: boxes in original pixels, size classes, interest."""

from __future__ import annotations

import numpy as np
import pytest

from dashapp.analysis.maps.regions import find_regions, size_class
from dashapp.analysis.models.capture import capture
from tests.support.planted import RED, red_square_image


@pytest.mark.parametrize(
    ("size", "box"),
    [((300, 200), (60, 50, 120, 110)), ((200, 320), (120, 30, 180, 150)), ((224, 224), (100, 100, 160, 140))],
)
def test_red_detector_box_matches_square_in_original_pixels(planted, size, box) -> None:
    image = red_square_image(*size, box=box)
    maps = capture(planted, image).responses["conv"]
    regions = find_regions(maps[RED], image.width, image.height).regions
    assert regions, "the red detector found no region"
    best = regions[0]
    for got, want in zip((best.x0, best.y0, best.x1, best.y1), box, strict=True):
        assert abs(got - want) <= 3, (best, box)
    area = (box[2] - box[0]) * (box[3] - box[1]) / (size[0] * size[1])
    assert best.area_fraction == pytest.approx(area, rel=0.15)
    assert best.size_class == size_class(best.area_fraction)


def test_small_strong_region_ranks_first() -> None:
    fmap = np.zeros((40, 40), dtype=np.float32)
    fmap[2:4, 2:4] = 10.0  # small and strong
    fmap[10:40, 0:40] = 6.0  # very large, weaker
    regions = find_regions(fmap, 400, 400).regions
    assert regions[0].x1 <= 60 and regions[0].size_class == "small"
    assert regions[1].size_class == "very large"
    assert [r.number for r in regions] == [1, 2]
