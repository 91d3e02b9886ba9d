"""The classifiers of one (concept, layer) in the span of its examples.

A layer's maps have far more values (ResNet18 layer1: 200,704) than a test
has examples (N <= 300). A linear classifier with an L2 penalty, trained from
zero by gradient steps (scikit-learn's SGDClassifier) or to its optimum
(LogisticRegression), has its weights in the span of its training examples,
and the penalty does not change under a rotation. So it is trained on the
examples' coordinates in an orthonormal basis of the span of all N examples
(r <= N values each) and its weights are mapped back: the same classifier
(up to rounding), the same held-out accuracy, at a cost that grows with N
instead of D for each of the runs' 2 x R fits.

The basis comes from the N x N Gram matrix (eigh), accumulated over chunks of
columns in float64, so no float64 copy of the maps is made.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK = 16_384  # columns per float64 chunk: N x CHUNK x 8 bytes at a time
RELATIVE_FLOOR = 1e-12  # eigenvalues below this share of the largest are rounding, not directions


@dataclass(frozen=True)
class Span:
    parts: tuple[np.ndarray, ...]  # (N_i, D) float32 each: the examples, N = sum N_i rows in order
    coords: np.ndarray  # (N, r) float64: their coordinates in an orthonormal basis of their span
    back: np.ndarray  # (N, r): a vector with coordinates w is rows.T @ (back @ w)

    @property
    def width(self) -> int:
        return int(self.parts[0].shape[1])

    def columns(self, start: int) -> np.ndarray:
        """(N, CHUNK) float64: every example's values in columns start..start+CHUNK (no copy of the whole)."""
        return np.concatenate([part[:, start:start + CHUNK] for part in self.parts]).astype(np.float64)


def span_of(*parts: np.ndarray) -> Span:
    """The span of the rows of ``parts`` (examples, in order)."""
    count = sum(len(part) for part in parts)
    bare = Span(parts, np.zeros((count, 1)), np.zeros((count, 1)))
    gram = np.zeros((count, count), np.float64)
    for start in range(0, bare.width, CHUNK):
        block = bare.columns(start)
        gram += block @ block.T
    values, vectors = np.linalg.eigh(gram)
    keep = values > max(float(values.max(initial=0.0)), 0.0) * RELATIVE_FLOOR
    if not keep.any():  # every example is 0: one zero coordinate, no direction
        return bare
    vectors, roots = vectors[:, keep], np.sqrt(values[keep])
    return Span(parts, vectors * roots, vectors / roots)


def lift(span: Span, weights: np.ndarray) -> np.ndarray:
    """The (D,) float64 vector whose coordinates in the span's basis are ``weights``: a mix of the
    examples, summed part by part in float32 (one pass over the maps, no float64 copy)."""
    mix = span.back @ np.asarray(weights, np.float64)
    out = np.zeros(span.width, np.float64)
    offset = 0
    for part in span.parts:
        out += mix[offset:offset + len(part)].astype(np.float32) @ part
        offset += len(part)
    return out
