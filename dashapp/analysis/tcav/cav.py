"""One concept activation vector: a linear classifier between two sets of a
layer's (flattened) maps, the unit normal of its boundary pointing towards
the concept, and its accuracy on held-out examples; the directional
derivatives along it and the TCAV score (Kim et al. 2018, sections 3.2-3.4).

The classifier itself is passed in (``LinearFit``): this package uses only
torch, numpy and scipy; the app's fit (scikit-learn's ``SGDClassifier``,
seeded) lives in ``dashapp.service.concepts.linear``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

TEST_SHARE = 0.33  # held out of each side for the accuracy (Captum's default split)
# (features (N, D), labels (N,) in {0, 1}, seed) -> (weights (D,), intercept): label 1 on the positive side.
LinearFit = Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, float]]


@dataclass(frozen=True)
class Cav:
    vector: np.ndarray  # float64 (D,), unit length; zeros when the classifier found no direction
    accuracy: float  # on the held-out examples of both sides


def _split(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled indices into train and test, at least one of each."""
    order = rng.permutation(count)
    held = min(max(1, round(count * TEST_SHARE)), count - 1)
    return order[held:], order[:held]


def train_cav(concept: np.ndarray, other: np.ndarray, fit: LinearFit, seed: int) -> Cav:
    """The CAV separating ``concept`` (N1, D) from ``other`` (N2, D); each side needs two examples."""
    if len(concept) < 2 or len(other) < 2:
        raise ValueError("a CAV needs at least two examples on each side")
    rng = np.random.default_rng(seed)
    c_train, c_test = _split(len(concept), rng)
    o_train, o_test = _split(len(other), rng)
    x = np.concatenate([concept[c_train], other[o_train]])
    y = np.concatenate([np.ones(len(c_train), np.int64), np.zeros(len(o_train), np.int64)])
    weights, intercept = fit(x, y, seed)
    weights = np.asarray(weights, dtype=np.float64).ravel()
    held = np.concatenate([concept[c_test], other[o_test]]).astype(np.float64)
    truth = np.concatenate([np.ones(len(c_test), bool), np.zeros(len(o_test), bool)])
    accuracy = float(np.mean(((held @ weights + intercept) > 0) == truth))
    norm = float(np.linalg.norm(weights))
    vector = weights / norm if norm > 0 and np.isfinite(norm) else np.zeros_like(weights)
    return Cav(vector, accuracy)


def directional_derivatives(gradients: np.ndarray, cav: Cav) -> np.ndarray:
    """``S_C,k,l(x) = grad h_l,k(f_l(x)) . v_C^l`` per class image, (N,) float64."""
    return gradients.astype(np.float64) @ cav.vector


def tcav_score(derivatives: np.ndarray) -> float:
    """The share of class images whose class logit rises along the concept (derivative > 0)."""
    return float(np.mean(derivatives > 0)) if derivatives.size else float("nan")
