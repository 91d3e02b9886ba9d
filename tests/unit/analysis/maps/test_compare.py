"""Which filters respond most differently between two subjects, checked against hand-computed answers."""

from __future__ import annotations

import numpy as np
import pytest

from dashapp.analysis.maps.compare import differing_filters
from dashapp.analysis.maps.stats import filter_stats


def maps_of(peaks: list[float], means: list[float]) -> np.ndarray:
    """(C, 2, 2) maps with the given peak and mean per filter: the peak in one
    cell, the rest of 4 * mean spread evenly over the other three (mean <= peak)."""
    out = np.zeros((len(peaks), 4), dtype=np.float64)
    for i, (peak, mean) in enumerate(zip(peaks, means, strict=True)):
        out[i] = [peak, *[(4 * mean - peak) / 3] * 3]
    return out.reshape(len(peaks), 2, 2)


def test_by_peak_and_by_mean_against_hand_computed_differences() -> None:
    a = filter_stats(maps_of([4, 1, 2, 0, 3], [1.5, 0.5, 1.0, 0, 1.0]))
    b = filter_stats(maps_of([1, 1, 5, 0, 3], [0.5, 0.5, 1.5, 0, 2.5]))
    by_peak = differing_filters(a, b, "peak", 3)
    # |b - a| of the peaks: 3, 0, 3, 0 (silent in both), 0 -> filters 0 and 2 (ties by index), then 1.
    assert [d.index for d in by_peak] == [0, 2, 1]
    assert [x for d in by_peak[:2] for x in (d.a, d.b, d.delta)] == pytest.approx([4, 1, -3, 2, 5, 3])
    by_mean = differing_filters(a, b, "mean", 2)
    # |b - a| of the means: 1, 0, 0.5, 0, 1.5 -> 4, 0.
    assert [d.index for d in by_mean] == [4, 0]
    assert by_mean[0].as_dict() == pytest.approx({"filter": 4, "a": 1.0, "b": 2.5, "delta": 1.5})


def test_filters_silent_on_both_sides_are_left_out() -> None:
    a = filter_stats(maps_of([0, 0, 1], [0, 0, 0.25]))
    b = filter_stats(maps_of([0, 0, 1], [0, 0, 0.25]))
    assert [d.index for d in differing_filters(a, b, "peak", 5)] == [2]


def test_layers_of_different_widths_and_unknown_measures_are_refused() -> None:
    a = filter_stats(maps_of([1, 2], [0.25, 0.5]))
    b = filter_stats(maps_of([1], [0.25]))
    with pytest.raises(ValueError, match="2 and 1 filters"):
        differing_filters(a, b)
    with pytest.raises(ValueError, match="peak, mean"):
        differing_filters(a, a, "median")
