"""The words that stand in for a heatmap: peak, where it lies, silence."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dashapp.analysis.describe import describe_map, where
from dashapp.analysis.stats import filter_stats


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


def test_a_planted_peak_is_told_by_value_place_and_silence() -> None:
    fmap = np.zeros((12, 12), dtype=np.float32)
    fmap[1, 10] = 2.5
    text = describe_map(fmap, "Filter 38")
    assert text == "Filter 38: peak response 2.5 in the upper right of the image; silent on 99% of it."


def test_a_spread_response_says_how_many_areas_reach_half_the_peak() -> None:
    fmap = np.ones((9, 9), dtype=np.float32)
    fmap[8, 0] = 1.8  # the peak, lower left; everything else is above half of it
    text = describe_map(fmap, "Filter 1")
    assert "peak response 1.8 in the lower left" in text
    assert "at least half the peak in 9 of 9 areas" in text
    assert text.endswith("silent on 0% of it.")


def test_a_silent_map_says_so() -> None:
    assert describe_map(np.zeros((4, 4)), "Filter 7") == "Filter 7: no response anywhere on the image."


def test_the_quantity_is_named() -> None:
    fmap = np.zeros((3, 3))
    fmap[1, 1] = 0.25
    assert describe_map(fmap, "Grad-CAM for goldfish", "evidence").startswith(
        "Grad-CAM for goldfish: peak evidence 0.25 in the centre")


@pytest.mark.parametrize("bad", [np.full((2, 2), np.nan), np.array([[0.0, np.inf]]), np.zeros((0, 3)), np.zeros(4)])
def test_bad_maps_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        describe_map(bad, "Filter 0")


def test_peak_and_sparsity_agree_with_the_statistics_module() -> None:
    """Independent reference: the numbers in the words are the layer statistics'."""
    rng = np.random.default_rng(0)
    maps = np.maximum(rng.normal(size=(5, 14, 14)), 0).astype(np.float32)
    stats = filter_stats(maps)
    for i, fmap in enumerate(maps):
        text = describe_map(fmap, f"Filter {i}")
        match = re.search(r"peak response ([0-9.e+-]+) .* silent on (\d+)% of it\.$", text)
        assert match, text
        assert float(match.group(1)) == pytest.approx(float(stats.max[i]), rel=5e-3)  # 3 significant digits
        assert int(match.group(2)) == round(100 * float(stats.sparsity[i]))
