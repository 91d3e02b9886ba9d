"""A plain-language reading of one filter, from its numbers alone."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .models import WeightsStatus
from .regions import Region
from .stats import FilterStats

# Sparsity bands from the seed app's interpretation table.
SPARSITY_BANDS = (
    (0.70, "very selective", "it fires on a small, specific part of the image (an eye, a particular stripe)"),
    (0.30, "moderately selective", "it responds to recurring textures or edges"),
    (0.10, "weakly selective", "it responds to common colours or broad areas"),
    (0.0, "not selective", "it responds almost everywhere: background, lighting or overall colour"),
)
LOW_CONFIDENCE = 0.20


@dataclass(frozen=True)
class Reading:
    band: str
    summary: str
    details: list[str]
    warnings: list[str]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def sparsity_band(sparsity: float) -> tuple[str, str]:
    for bound, name, meaning in SPARSITY_BANDS:
        if sparsity > bound or bound == 0.0:
            return name, meaning
    return SPARSITY_BANDS[-1][1], SPARSITY_BANDS[-1][2]


def read_filter(
    index: int,
    stats: FilterStats,
    regions: list[Region],
    weights: WeightsStatus,
    top_probability: float | None,
) -> Reading:
    sparsity = float(stats.sparsity[index])
    mean = float(stats.mean[index])
    band, meaning = sparsity_band(sparsity)
    summary = f"Filter {index} is {band} ({sparsity:.0%} of positions silent): {meaning}."
    details: list[str] = []
    warnings: list[str] = []

    # Strength relative to the layer: where its mean stands among all filters.
    percentile = float((stats.mean < mean).mean() * 100)
    if percentile >= 90:
        details.append(
            f"One of the strongest filters of this layer on this image (mean above {percentile:.0f}% of filters)."
        )
    elif percentile >= 50:
        details.append(f"Stronger than most filters of this layer (mean above {percentile:.0f}% of filters).")
    else:
        details.append(f"Weaker than most filters of this layer (mean above only {percentile:.0f}% of filters).")

    if not regions:
        details.append("It does not respond anywhere on this image.")
    else:
        classes = [r.size_class for r in regions]
        best = regions[0]
        details.append(
            f"{len(regions)} activation region(s); the most interesting covers {best.area_fraction:.1%} "
            f"of the image ({best.size_class})."
        )
        if all(c == "small" for c in classes):
            details.append("All its regions are small: it picks out specific details.")
        if any(c == "very large" for c in classes) or sparsity < 0.10:
            warnings.append(
                "Likely background: it responds over a very large part of the image, so it may encode "
                "colour or lighting rather than an object part."
            )
    if not np.isfinite(mean) or float(stats.max[index]) == 0:
        warnings.append("This filter is silent on this image; its reading says nothing about what it detects.")
    if not weights.pretrained:
        warnings.append(
            "The model runs on untrained (random) weights, so this filter has learned nothing: "
            "its pattern and responses are arbitrary."
        )
    if top_probability is not None and top_probability < LOW_CONFIDENCE:
        warnings.append(
            f"The model is unsure what the image shows (top class {top_probability:.0%}); "
            "its filters may respond to features unrelated to the main object."
        )
    return Reading(band=band, summary=summary, details=details, warnings=warnings)
