"""The facts of a filter's reading: sparsity bands, strength and warning codes
(the words: tests/unit/wording/test_reading.py)."""

from __future__ import annotations

import numpy as np
import pytest

from dashapp.analysis.maps.explain import read_filter, sparsity_band, strength
from dashapp.analysis.maps.regions import find_regions
from dashapp.analysis.maps.stats import filter_stats
from dashapp.analysis.models.registry import WeightsStatus


@pytest.mark.parametrize(("sparsity", "band"), [
    (0.8, "very selective"), (0.71, "very selective"), (0.70, "moderately selective"), (0.5, "moderately selective"),
    (0.2, "weakly selective"), (0.10, "not selective"), (0.05, "not selective"), (0.0, "not selective"),
])
def test_sparsity_bands_follow_the_seed_table(sparsity: float, band: str) -> None:
    assert sparsity_band(sparsity) == band


@pytest.mark.parametrize(("share", "expected"), [(1.0, "strongest"), (0.9, "strongest"), (0.89, "stronger"),
                                                 (0.5, "stronger"), (0.49, "weaker"), (0.0, "weaker")])
def test_strength_among_the_layer(share: float, expected: str) -> None:
    assert strength(share) == expected


def test_reading_bands_and_warnings() -> None:
    maps = np.zeros((2, 10, 10), dtype=np.float32)
    maps[0] = 1.0
    maps[1, :2, :2] = 3.0
    stats = filter_stats(maps)
    background = find_regions(maps[0], 100, 100).regions
    reading = read_filter(0, stats, background, WeightsStatus(False, "offline", 0), 0.05)
    assert reading.warnings == ("background", "untrained", "unsure") and reading.band == "not selective"
    assert reading.regions == len(background) and reading.best_size == "very large" and not reading.all_small
    selective = read_filter(1, stats, find_regions(maps[1], 100, 100).regions, WeightsStatus(True), 0.9)
    assert selective.warnings == () and selective.band == "very selective"
    assert selective.sparsity == pytest.approx(0.96) and selective.all_small and selective.best_size == "small"
    # Means 1.0 and 0.12: filter 0 is above half the layer (filter 1), filter 1 above none.
    assert reading.percentile == pytest.approx(0.5) and reading.strength == "stronger"
    assert selective.percentile == 0.0 and selective.strength == "weaker"


def test_a_silent_filter_has_no_regions_and_says_it_is_silent() -> None:
    maps = np.zeros((3, 6, 6), dtype=np.float32)
    maps[1] = 1.0
    reading = read_filter(0, filter_stats(maps), [], WeightsStatus(True), None)
    assert reading.warnings == ("silent",) and reading.regions == 0 and reading.best_area is None
    assert not reading.all_small
