"""The ranking names what each rule removed; region interest ranks by the
region's peak."""

from __future__ import annotations

import numpy as np
import pytest

from dashapp.analysis.maps.regions import find_regions
from dashapp.analysis.maps.stats import filter_stats, rank_filters


def test_each_rule_names_the_filters_it_removed() -> None:
    """(The notice that says it in words: tests/unit/wording/test_ranking.py.)"""
    maps = np.ones((8, 5, 5), dtype=np.float32)
    maps[:3, :3] = 0.0  # filters 0-2 sparse (60 % zeros)
    maps[5] = 0.0  # dead
    maps[6] = 0.0
    maps[6, 0, 0] = 0.01  # nearly dead: peak 1 % of the strongest
    ranking = rank_filters(filter_stats(maps), "balanced", 6, min_sparsity=0.5)
    assert [f.index for f in ranking.filters] == [0, 1, 2] and ranking.eligible == 3 and ranking.short
    assert ranking.too_weak == (5, 6) and ranking.too_dense == (3, 4, 7)
    assert ranking.as_dict()["removed"] == {"too_weak": [5, 6], "too_little_sparsity": [3, 4, 7]}
    assert ranking.notice is None  # words are the presentation layer's


def test_the_sparsest_is_taken_among_filters_that_respond() -> None:
    """The reviewed case: all sparse filters were removed by the 5 % peak rule,
    and the notice blamed the sparsity ("the sparsest is 1.00")."""
    maps = np.zeros((4, 10, 10), dtype=np.float32)
    maps[0] = 1.0  # strong and dense
    maps[1:, 0, 0] = 0.01  # sparse but barely there
    ranking = rank_filters(filter_stats(maps), "balanced", 3, min_sparsity=0.5)
    assert ranking.filters == [] and ranking.too_weak == (1, 2, 3) and ranking.too_dense == (0,)
    assert ranking.sparsest == 0.0


def test_small_region_with_the_global_peak_outranks_a_broad_plateau() -> None:
    fmap = np.zeros((20, 20), dtype=np.float32)
    fmap[10:19, 1:12] = 0.9  # a broad plateau, about a quarter of the map
    fmap[3, 16] = 1.0  # one cell holding the map's peak
    regions = find_regions(fmap, 200, 200).regions
    spike, plateau = regions[0], regions[1]
    # (Grid pixels fall between cell centres, so the sampled spike peaks a little under 1.)
    assert spike.peak > plateau.peak and spike.size_class == "small" and plateau.area_fraction > 0.2
    # The plateau's mean is higher: ranking by the mean (the old rule) put it first.
    assert plateau.mean > spike.mean
    assert plateau.mean / 1.0 * (1 - plateau.area_fraction) > spike.mean / 1.0 * (1 - spike.area_fraction)
    assert spike.interest == pytest.approx(spike.peak / 1.0 * (1 - spike.area_fraction))
    assert plateau.interest == pytest.approx(plateau.peak / 1.0 * (1 - plateau.area_fraction))
    assert spike.interest > plateau.interest
