"""Ranking notices count and name what each rule removed; region interest
ranks by the region's peak."""

from __future__ import annotations

import numpy as np
import pytest

from dashapp.analysis.regions import find_regions
from dashapp.analysis.stats import filter_stats, rank_filters


def test_notice_counts_and_names_each_rule() -> None:
    maps = np.ones((8, 5, 5), dtype=np.float32)
    maps[:3, :3] = 0.0  # filters 0-2 sparse (60 % zeros)
    maps[5] = 0.0  # dead
    maps[6] = 0.0
    maps[6, 0, 0] = 0.01  # nearly dead: peak 1 % of the strongest
    ranking = rank_filters(filter_stats(maps), "balanced", 6, min_sparsity=0.5)
    assert [f.index for f in ranking.filters] == [0, 1, 2]
    assert ranking.too_weak == (5, 6) and ranking.too_dense == (3, 4, 7)
    notice = ranking.notice or ""
    assert "Only 3 of 8 filters are eligible" in notice
    assert "2 too weak" in notice and "filters 5 and 6" in notice
    assert "3 below the minimum sparsity of 0.50" in notice and "filters 3, 4 and 7" in notice
    assert ranking.as_dict()["removed"] == {"too_weak": [5, 6], "too_little_sparsity": [3, 4, 7]}


def test_no_eligible_filter_says_the_peak_rule_not_the_sparsity() -> None:
    """The reviewed case: all sparse filters were removed by the 5 % peak rule,
    and the notice blamed the sparsity ("the sparsest is 1.00")."""
    maps = np.zeros((4, 10, 10), dtype=np.float32)
    maps[0] = 1.0  # strong and dense
    maps[1:, 0, 0] = 0.01  # sparse but barely there
    ranking = rank_filters(filter_stats(maps), "balanced", 3, min_sparsity=0.5)
    notice = ranking.notice or ""
    assert ranking.filters == [] and notice.startswith("No filter of this layer is eligible")
    assert "3 too weak" in notice and "filters 1, 2 and 3" in notice
    assert "1 below the minimum sparsity" in notice and "filter 0)" in notice
    assert "sparsity 0.00" in notice and "1.00" not in notice


def test_many_filters_are_named_briefly() -> None:
    maps = np.ones((40, 4, 4), dtype=np.float32)
    notice = rank_filters(filter_stats(maps), "balanced", 3, min_sparsity=0.5).notice or ""
    assert "40 below the minimum sparsity" in notice and "… (40 in all)" in notice


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
