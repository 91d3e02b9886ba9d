"""A plain-language reading of one filter, from its numbers alone.

This module decides what the reading says (the band, how strong the filter
is among its layer, its regions, which warnings apply); ``wording/reading.py``
says it in the reader's language. Analysis stays free of the interface's
catalogs, so it returns facts: band keys, numbers and warning codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashapp.analysis.maps.regions import Region
from dashapp.analysis.maps.stats import FilterStats
from dashapp.analysis.models.registry import WeightsStatus

# Sparsity bands from the seed app's interpretation table: (lower bound, key).
# The keys are part of the API (a reading's "band").
SPARSITY_BANDS = (
    (0.70, "very selective"),
    (0.30, "moderately selective"),
    (0.10, "weakly selective"),
    (0.0, "not selective"),
)
BANDS = tuple(name for _bound, name in SPARSITY_BANDS)
LOW_CONFIDENCE = 0.20
# How strong the filter is among its layer, by the share of filters with a lower mean.
STRENGTHS = ("strongest", "stronger", "weaker")  # >= 90 %, >= 50 %, below
WARNINGS = ("background", "silent", "untrained", "unsure")


@dataclass(frozen=True)
class Reading:
    """What the reading of one filter says, as facts."""

    index: int
    band: str  # one of BANDS
    sparsity: float
    strength: str  # one of STRENGTHS
    percentile: float  # share (0-1) of the layer's filters whose mean is lower
    regions: int  # activation regions found
    best_area: float | None  # area fraction of the most interesting region
    best_size: str | None  # and its size class
    all_small: bool  # every region is small
    warnings: tuple[str, ...]  # codes from WARNINGS, in the order they are said
    top_probability: float | None


def sparsity_band(sparsity: float) -> str:
    for bound, name in SPARSITY_BANDS:
        if sparsity > bound or bound == 0.0:
            return name
    return SPARSITY_BANDS[-1][1]


def strength(percentile: float) -> str:
    if percentile >= 0.90:
        return "strongest"
    return "stronger" if percentile >= 0.50 else "weaker"


def read_filter(
    index: int,
    stats: FilterStats,
    regions: list[Region],
    weights: WeightsStatus,
    top_probability: float | None,
) -> Reading:
    sparsity = float(stats.sparsity[index])
    mean = float(stats.mean[index])
    # Strength relative to the layer: where its mean stands among all filters.
    percentile = float((stats.mean < mean).mean())
    classes = [r.size_class for r in regions]
    warnings: list[str] = []
    if regions and (any(c == "very large" for c in classes) or sparsity < 0.10):
        warnings.append("background")
    if not np.isfinite(mean) or float(stats.max[index]) == 0:
        warnings.append("silent")
    if not weights.pretrained:
        warnings.append("untrained")
    if top_probability is not None and top_probability < LOW_CONFIDENCE:
        warnings.append("unsure")
    return Reading(
        index=index,
        band=sparsity_band(sparsity),
        sparsity=sparsity,
        strength=strength(percentile),
        percentile=percentile,
        regions=len(regions),
        best_area=regions[0].area_fraction if regions else None,
        best_size=regions[0].size_class if regions else None,
        all_small=bool(regions) and all(c == "small" for c in classes),
        warnings=tuple(warnings),
        top_probability=top_probability,
    )
