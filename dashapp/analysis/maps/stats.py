"""Filter statistics and ranking (docs/definitions.md: sparsity, balanced score)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

CRITERIA = ("balanced", "mean", "max", "std")


@dataclass(frozen=True)
class FilterStats:
    """Per-filter statistics of one layer's response, as arrays indexed by filter."""

    mean: np.ndarray
    max: np.ndarray
    std: np.ndarray
    sparsity: np.ndarray

    @property
    def count(self) -> int:
        return int(self.mean.shape[0])


@dataclass(frozen=True)
class LayerStats:
    mean: float
    max: float
    std: float
    sparsity: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class RankedFilter:
    index: int
    rank: int  # 1-based
    score: float
    mean: float
    max: float
    std: float
    sparsity: float

    def as_dict(self) -> dict[str, float | int]:
        # Not dataclasses.asdict, which deep-copies: this runs for every ranked filter.
        return {"index": self.index, "rank": self.rank, "score": self.score, "mean": self.mean, "max": self.max,
                "std": self.std, "sparsity": self.sparsity}


@dataclass(frozen=True)
class Ranking:
    criterion: str
    filters: list[RankedFilter]
    requested: int
    eligible: int  # filters that pass the cutoff (all of them for other criteria)
    # Filters each balanced-score rule removed (empty for other criteria): a
    # peak below MIN_RELATIVE_PEAK of the layer's strongest (checked first),
    # and, among the rest, sparsity below the cutoff.
    too_weak: tuple[int, ...] = ()
    too_dense: tuple[int, ...] = ()
    count: int = 0  # filters in the layer
    min_sparsity: float = 0.0  # the cutoff the balanced score applied
    sparsest: float | None = None  # the highest sparsity among filters that respond (None: none respond)
    # The shortfall said on screen, in the reader's language: analysis leaves
    # it None, ``wording.ranking.with_notice`` words it from the facts above.
    notice: str | None = None

    @property
    def short(self) -> bool:
        """The balanced score's rules left fewer filters than asked."""
        return self.criterion == "balanced" and self.eligible < self.requested

    def as_dict(self) -> dict[str, object]:
        return {
            "criterion": self.criterion,
            "requested": self.requested,
            "eligible": self.eligible,
            "notice": self.notice,
            "removed": {"too_weak": list(self.too_weak), "too_little_sparsity": list(self.too_dense)},
            "filters": [f.as_dict() for f in self.filters],
        }


def filter_stats(maps: np.ndarray) -> FilterStats:
    """``maps`` is (C, H, W) of rectified responses."""
    flat = maps.reshape(maps.shape[0], -1).astype(np.float32, copy=False)
    return FilterStats(
        mean=flat.mean(axis=1),
        max=flat.max(axis=1),
        std=flat.std(axis=1),
        sparsity=(flat == 0).mean(axis=1),
    )


def layer_stats(maps: np.ndarray) -> LayerStats:
    flat = maps.astype(np.float32, copy=False)
    return LayerStats(
        mean=float(flat.mean()),
        max=float(flat.max()),
        std=float(flat.std()),
        sparsity=float((flat == 0).mean()),
    )


MIN_RELATIVE_PEAK = 0.05


def responds(stats: FilterStats) -> np.ndarray:
    """Filters whose peak reaches a twentieth of the layer's strongest peak."""
    top = float(stats.max.max()) if stats.count else 0.0
    return (stats.max > 0) & (stats.max >= MIN_RELATIVE_PEAK * top)


def balanced_scores(stats: FilterStats, min_sparsity: float, weight: float) -> np.ndarray:
    """``w * mean / max(eligible means) + (1 - w) * sparsity`` for eligible
    filters, NaN for the rest. Normalizing by the largest eligible mean (not
    min-max) keeps a single eligible filter's score meaningful.

    A filter that barely responds anywhere has a sparsity near 1 but is off,
    not selective: its peak must reach ``MIN_RELATIVE_PEAK`` of the layer's
    strongest peak to be eligible (else dead filters would top the list).
    """
    eligible = (stats.sparsity >= min_sparsity) & responds(stats)
    scores = np.full(stats.count, np.nan, dtype=np.float64)
    if not eligible.any():
        return scores
    top_mean = float(stats.mean[eligible].max())
    normalized = stats.mean / top_mean if top_mean > 0 else np.zeros_like(stats.mean)
    scores[eligible] = weight * normalized[eligible] + (1.0 - weight) * stats.sparsity[eligible]
    return scores


def rank_filters(
    stats: FilterStats,
    criterion: str = "balanced",
    n: int = 6,
    min_sparsity: float = 0.15,
    weight: float = 0.5,
) -> Ranking:
    if criterion not in CRITERIA:
        raise ValueError(f"unknown criterion {criterion!r}; choose one of {', '.join(CRITERIA)}")
    n = max(1, min(int(n), stats.count))
    if criterion == "balanced":
        scores = balanced_scores(stats, min_sparsity, weight)
    else:
        scores = getattr(stats, criterion).astype(np.float64)
    candidates = np.flatnonzero(~np.isnan(scores))
    # Stable sort on -score: ties keep the lower filter index first.
    order = candidates[np.argsort(-scores[candidates], kind="stable")][:n]
    too_weak: tuple[int, ...] = ()
    too_dense: tuple[int, ...] = ()
    sparsest = None
    if criterion == "balanced":
        strong = responds(stats)
        too_weak = tuple(int(i) for i in np.flatnonzero(~strong))
        too_dense = tuple(int(i) for i in np.flatnonzero(strong & (stats.sparsity < min_sparsity)))
        sparsest = float(stats.sparsity[strong].max()) if strong.any() else None
    filters = [
        RankedFilter(
            index=int(i),
            rank=rank,
            score=float(scores[i]),
            mean=float(stats.mean[i]),
            max=float(stats.max[i]),
            std=float(stats.std[i]),
            sparsity=float(stats.sparsity[i]),
        )
        for rank, i in enumerate(order, start=1)
    ]
    return Ranking(criterion=criterion, filters=filters, requested=n, eligible=int(candidates.size),
                   too_weak=too_weak, too_dense=too_dense, count=stats.count, min_sparsity=float(min_sparsity),
                   sparsest=sparsest)

