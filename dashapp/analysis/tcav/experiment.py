"""The TCAV test (Kim et al. 2018, section 3.5): R runs, each a different
random subset; the random-vs-random null; a two-sided t-test; Bonferroni.

Run r draws, with seed ``seed + r``, ``m = min(concept images, random
images // 2)`` images of the concept, ``m`` random images as the
counterexamples, and ``m`` other random images that play the concept in the
null run. Each run trains a concept CAV and a null CAV at every layer and
scores the class images along both. A concept at a layer is significant
iff the t-test's p < ALPHA / (layers x concepts).

Maps and gradients are computed once per image and layer beforehand
(``activations``) and only indexed here; the classifiers are trained in the
span of the (concept, layer)'s examples (``span``). Memory is bounded by subsampling
each collection (seeded) to MAX_IMAGES images, the random one to twice that.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from .cav import Cav, LinearFit, directional_derivatives, tcav_score, train_cav
from .span import Span, lift, span_of

ALPHA = 0.05
DEFAULT_RUNS = 10
MAX_RUNS = 50
MAX_IMAGES = 100  # per concept or class collection; the random collection: 2 x MAX_IMAGES
MIN_CONCEPT_IMAGES = 4  # two to train and one to test on each side, and room for a different subset per run
MIN_CLASS_IMAGES = 1
RANDOM_CAP = 2 * MAX_IMAGES
Step = Callable[[], None]  # called after each CAV; raises to stop


@dataclass(frozen=True)
class LayerResult:
    concept: str
    layer: str
    scores: list[float]  # TCAV score per run
    null: list[float]  # random-vs-random score per run
    accuracies: list[float]  # concept CAV held-out accuracy per run
    p_value: float
    significant: bool
    derivatives: list[float]  # per class image, mean over runs of the directional derivative

    @property
    def score_mean(self) -> float:
        return float(np.mean(self.scores))

    @property
    def score_std(self) -> float:
        return float(np.std(self.scores))

    @property
    def null_mean(self) -> float:
        return float(np.mean(self.null))

    @property
    def cav_accuracy(self) -> float:
        return float(np.mean(self.accuracies))


def subsample(count: int, cap: int, seed: int) -> list[int]:
    """Which of ``count`` images are used: all up to ``cap``, else a seeded sample (sorted)."""
    if count <= cap:
        return list(range(count))
    return sorted(int(i) for i in np.random.default_rng(seed).choice(count, cap, replace=False))


def per_run_size(concept_images: int, random_images: int) -> int:
    return min(concept_images, random_images // 2)


def run_subsets(concept_images: int, random_images: int, run: int, seed: int) -> tuple[np.ndarray, ...]:
    """(concept, random, null-concept) indices of run ``run``; random and null disjoint."""
    m = per_run_size(concept_images, random_images)
    rng = np.random.default_rng(seed + run)
    concept = np.sort(rng.choice(concept_images, m, replace=False))
    shuffled = rng.permutation(random_images)
    return concept, np.sort(shuffled[:m]), np.sort(shuffled[m:2 * m])


def p_value(scores: Sequence[float], null: Sequence[float]) -> float:
    """Two-sided t-test (equal variances, scipy's default). Two constant samples:
    1 when they are equal (nothing to tell apart), 0 when they differ."""
    a, b = np.asarray(scores, np.float64), np.asarray(null, np.float64)
    if a.std() == 0 and b.std() == 0:
        return 1.0 if a.mean() == b.mean() else 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nearly constant samples: scipy warns, answers anyway
        p = float(stats.ttest_ind(a, b).pvalue)
    return p if math.isfinite(p) else 1.0


def threshold(layers: int, concepts: int) -> float:
    """Bonferroni: the p-value a result must stay under."""
    return ALPHA / max(1, layers * concepts)


def assess_concept(concept: str, layer: str, concept_maps: np.ndarray, random_maps: np.ndarray,
                 gradients: np.ndarray, runs: int, seed: int, fit: LinearFit, cutoff: float,
                 step: Step | None = None, random_span: Span | None = None) -> LayerResult:
    """All runs of one (concept, layer): concept and null CAVs, scores, the test. The null CAVs
    live in the span of the random images alone (``random_span``, shared by the concepts), so a
    direction no random image has stays exactly out of them."""
    scores, null, accuracies = [], [], []
    derivative_sum = np.zeros(len(gradients), np.float64)
    span = span_of(concept_maps, random_maps)  # every fit in the examples' span (span.py)
    concept_z, random_z = span.coords[:len(concept_maps)], span.coords[len(concept_maps):]
    null_span = random_span or span_of(random_maps)

    def fitted(positive: np.ndarray, negative: np.ndarray, run: int, within: Span) -> Cav:
        reduced = train_cav(positive, negative, fit, seed + run)
        vector = lift(within, reduced.vector)
        norm = float(np.linalg.norm(vector))
        return Cav(vector / norm if norm > 0 else vector, reduced.accuracy)

    for run in range(runs):
        c_idx, r_idx, n_idx = run_subsets(len(concept_maps), len(random_maps), run, seed)
        cav = fitted(concept_z[c_idx], random_z[r_idx], run, span)
        derivatives = directional_derivatives(gradients, cav)
        scores.append(tcav_score(derivatives))
        accuracies.append(cav.accuracy)
        derivative_sum += derivatives
        if step is not None:
            step()
        null_cav = fitted(null_span.coords[n_idx], null_span.coords[r_idx], run, null_span)
        null.append(tcav_score(directional_derivatives(gradients, null_cav)))
        if step is not None:
            step()
    p = p_value(scores, null)
    return LayerResult(concept, layer, scores, null, accuracies, p, p < cutoff, list(derivative_sum / runs))


def assess_concepts(concept_maps: dict[str, dict[str, np.ndarray]], random_maps: dict[str, np.ndarray],
                  gradients: dict[str, np.ndarray], layers: Sequence[str], runs: int, seed: int, fit: LinearFit,
                  step: Step | None = None) -> list[LayerResult]:
    """Every (concept, layer), concepts in the given order, layers in the given order.

    ``concept_maps``: concept -> layer -> (N, D) maps; ``random_maps``: layer
    -> (M, D); ``gradients``: layer -> (K, D) class-logit gradients."""
    cutoff = threshold(len(layers), len(concept_maps))
    random_spans = {layer: span_of(random_maps[layer]) for layer in layers}
    return [assess_concept(concept, layer, maps[layer], random_maps[layer], gradients[layer], runs, seed, fit,
                           cutoff, step, random_spans[layer])
            for concept, maps in concept_maps.items() for layer in layers]


def steps(concepts: int, layers: int, runs: int) -> int:
    """CAVs trained by ``assess_concepts`` (progress units)."""
    return concepts * layers * runs * 2
