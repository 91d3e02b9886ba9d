"""What stands in for a heatmap: peak, where it lies, silence (the words:
tests/unit/wording/test_maps.py)."""

from __future__ import annotations

import numpy as np
import pytest

from dashapp.analysis.maps.describe import PLACES, MapFacts, map_facts, where
from dashapp.analysis.maps.stats import filter_stats


@pytest.mark.parametrize(
    ("row", "col", "expected"),
    [
        (0, 0, "upper left"), (0, 13, "upper centre"), (0, 27, "upper right"),
        (14, 0, "middle left"), (14, 14, "centre"), (14, 27, "middle right"),
        (27, 0, "lower left"), (27, 14, "lower centre"), (27, 27, "lower right"),
        (8, 8, "upper left"), (9, 9, "centre"),  # cell 8 centres at 8.5 < 28 / 3, cell 9 at 9.5 >
    ],
)
def test_where_names_the_ninth_of_the_image(row: int, col: int, expected: str) -> None:
    assert where(row, col, 28, 28) == expected


def test_where_on_a_wide_map_and_a_single_cell() -> None:
    assert where(0, 5, 1, 6) == "middle right"
    assert where(0, 0, 1, 1) == "centre"


def test_where_refuses_a_cell_outside_the_map() -> None:
    with pytest.raises(ValueError, match="outside"):
        where(3, 0, 3, 3)


def test_a_planted_peak_is_found_with_its_place_and_the_silence() -> None:
    fmap = np.zeros((12, 12), dtype=np.float32)
    fmap[1, 10] = 2.5
    facts = map_facts(fmap)
    assert facts == MapFacts(peak=2.5, place="upper right", areas=1, silent=pytest.approx(143 / 144))


def test_a_spread_response_counts_the_areas_reaching_half_the_peak() -> None:
    fmap = np.ones((9, 9), dtype=np.float32)
    fmap[8, 0] = 1.8  # the peak, lower left; everything else is above half of it
    facts = map_facts(fmap)
    assert facts.place == "lower left" and facts.areas == 9 and facts.silent == 0.0
    assert facts.peak == pytest.approx(1.8)


def test_a_silent_map_has_no_place() -> None:
    assert map_facts(np.zeros((4, 4))) == MapFacts(peak=0.0, place=None, areas=0, silent=1.0)


def test_every_place_is_one_of_the_nine() -> None:
    assert len(PLACES) == 9 and "centre" in PLACES and "middle centre" not in PLACES
    assert {where(r, c, 3, 3) for r in range(3) for c in range(3)} == set(PLACES)


@pytest.mark.parametrize("bad", [np.full((2, 2), np.nan), np.array([[0.0, np.inf]]), np.zeros((0, 3)), np.zeros(4)])
def test_bad_maps_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        map_facts(bad)


def test_peak_and_sparsity_agree_with_the_statistics_module() -> None:
    """Independent reference: the facts are the layer statistics'."""
    rng = np.random.default_rng(0)
    maps = np.maximum(rng.normal(size=(5, 14, 14)), 0).astype(np.float32)
    stats = filter_stats(maps)
    for i, fmap in enumerate(maps):
        facts = map_facts(fmap)
        assert facts.peak == pytest.approx(float(stats.max[i]), rel=1e-6)
        assert facts.silent == pytest.approx(float(stats.sparsity[i]))


def test_areas_follow_where_for_every_strong_cell() -> None:
    """The count of ninths reaching half the peak is ``where``'s rule applied cell by cell."""
    rng = np.random.default_rng(3)
    for rows, cols in ((1, 1), (2, 5), (7, 7), (13, 4), (28, 28), (56, 112), (112, 112)):
        for _ in range(4):
            fmap = np.maximum(rng.normal(0, 1, (rows, cols)), 0) * (rng.random((rows, cols)) < rng.random())
            if fmap.max() <= 0:
                continue
            strong = np.argwhere(fmap >= fmap.max() / 2)
            expected = {where(int(r), int(c), rows, cols) for r, c in strong}
            assert map_facts(fmap).areas == len(expected), (rows, cols)
