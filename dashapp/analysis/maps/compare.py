"""Two subjects at one layer: which filters respond most differently.

The difference is in response units (the layer's rectified output), filter by
filter: ``b - a`` of the peak or of the mean. Both subjects are the same
layer of the same architecture (one image under two weights, or two images
under one), so filter ``i`` is the same unit in both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashapp.analysis.maps.stats import FilterStats

MEASURES = ("peak", "mean")


@dataclass(frozen=True)
class Difference:
    index: int
    a: float  # the measure for the first subject
    b: float  # and for the second

    @property
    def delta(self) -> float:
        return self.b - self.a

    def as_dict(self) -> dict[str, float | int]:
        return {"filter": self.index, "a": self.a, "b": self.b, "delta": self.delta}


def differing_filters(a: FilterStats, b: FilterStats, by: str = "peak", n: int = 6) -> list[Difference]:
    """The ``n`` filters with the largest |b - a| of the peak or the mean,
    largest first (ties by filter index). Filters silent in both are left out."""
    if by not in MEASURES:
        raise ValueError(f"by must be one of {', '.join(MEASURES)}")
    if a.count != b.count:
        raise ValueError(f"the two layers have {a.count} and {b.count} filters")
    first, second = (a.max, b.max) if by == "peak" else (a.mean, b.mean)
    gap = np.abs(second.astype(np.float64) - first.astype(np.float64))
    order = np.argsort(-gap, kind="stable")
    active = (first > 0) | (second > 0)
    chosen = [int(i) for i in order if active[i]][:n]
    return [Difference(i, float(first[i]), float(second[i])) for i in chosen]
