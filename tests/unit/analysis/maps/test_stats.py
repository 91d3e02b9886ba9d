"""Filter statistics and the ranking (sparsity, balanced score, cutoffs)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dashapp.analysis.maps.stats import filter_stats, layer_stats, rank_filters
from dashapp.analysis.models.capture import capture
from dashapp.analysis.models.registry import ModelRegistry
from tests.conftest import EXAMPLES
from tests.support.planted import BLUE, RED, red_square_image


def test_balanced_ranks_selective_red_detector_above_background_blue(planted) -> None:
    result = capture(planted, red_square_image())
    stats = filter_stats(result.responses["conv"])
    # The blue detector has the larger mean: "mean" puts the background first...
    assert stats.mean[BLUE] > stats.mean[RED]
    assert rank_filters(stats, "mean", 3).filters[0].index == BLUE
    # ...while "balanced" prefers the selective red detector.
    balanced = rank_filters(stats, "balanced", 3, min_sparsity=0.15, weight=0.5)
    order = [f.index for f in balanced.filters]
    assert order.index(RED) < order.index(BLUE)
    assert balanced.filters[0].index == RED


def test_resnet_sparsity_varies_and_balanced_is_not_mean(registry: ModelRegistry) -> None:
    image = Image.open(EXAMPLES / "chelsea.png").convert("RGB")
    maps = capture(registry.get("resnet18"), image).responses["layer2.0.conv1"]
    stats = filter_stats(maps)
    assert stats.sparsity.std() > 0.05
    assert stats.sparsity.max() - stats.sparsity.min() > 0.3
    balanced = [f.index for f in rank_filters(stats, "balanced", 10).filters]
    by_mean = [f.index for f in rank_filters(stats, "mean", 10).filters]
    assert balanced != by_mean


def test_statistics_on_a_known_array() -> None:
    maps = np.zeros((3, 4, 4), dtype=np.float32)
    maps[0] = 1.0
    maps[1, 0, 0] = 8.0
    stats = filter_stats(maps)
    np.testing.assert_allclose(stats.sparsity, [0.0, 15 / 16, 1.0])
    np.testing.assert_allclose(stats.mean, [1.0, 0.5, 0.0])
    np.testing.assert_allclose(stats.max, [1.0, 8.0, 0.0])
    whole = layer_stats(maps)
    assert whole.max == 8.0 and whole.sparsity == pytest.approx((0 + 15 + 16) / 48)


def test_balanced_cutoff_is_never_dropped_silently() -> None:
    maps = np.ones((4, 5, 5), dtype=np.float32)  # nothing sparse
    ranking = rank_filters(filter_stats(maps), "balanced", 3, min_sparsity=0.5)
    assert ranking.filters == [] and ranking.short and ranking.too_dense == (0, 1, 2, 3) and ranking.eligible == 0
    maps[0, :3] = 0
    partial = rank_filters(filter_stats(maps), "balanced", 3, min_sparsity=0.5)
    assert [f.index for f in partial.filters] == [0] and partial.short and partial.eligible == 1
    assert partial.count == 4 and partial.min_sparsity == 0.5 and partial.sparsest == pytest.approx(0.6)
    assert not rank_filters(filter_stats(maps), "mean", 3).short  # only the balanced score has rules


@pytest.mark.parametrize("n", [1, 3, 64, 10**6])
def test_rank_any_n(n: int) -> None:
    rng = np.random.default_rng(1)
    maps = np.maximum(rng.normal(size=(64, 6, 6)), 0).astype(np.float32)
    for criterion in ("balanced", "mean", "max", "std"):
        ranking = rank_filters(filter_stats(maps), criterion, n, min_sparsity=0.0)
        assert len(ranking.filters) == min(n, 64)
        scores = [f.score for f in ranking.filters]
        assert scores == sorted(scores, reverse=True)
        assert [f.rank for f in ranking.filters] == list(range(1, len(scores) + 1))


def test_silent_filters_are_not_ranked_as_selective() -> None:
    maps = np.zeros((3, 8, 8), dtype=np.float32)
    maps[1, :2, :2] = 1.0  # selective
    maps[2] = 0.5  # everywhere
    ranking = rank_filters(filter_stats(maps), "balanced", 3, min_sparsity=0.0)
    assert [f.index for f in ranking.filters] == [1, 2]  # filter 0 (silent) is not eligible


def test_nearly_silent_filters_are_not_ranked_as_selective() -> None:
    maps = np.zeros((3, 10, 10), dtype=np.float32)
    maps[0, 0, 0] = 0.01  # one faint response: off, not selective
    maps[1, :3, :3] = 2.0
    maps[2] = 1.0
    ranking = rank_filters(filter_stats(maps), "balanced", 3, min_sparsity=0.0)
    assert [f.index for f in ranking.filters] == [1, 2]
