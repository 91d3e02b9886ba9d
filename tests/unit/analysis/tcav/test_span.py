"""Classifiers trained in the span of the examples are the ones trained on the
maps themselves (analysis/tcav/span.py), at a cost that grows with the examples."""

from __future__ import annotations

import numpy as np
import pytest

from dashapp.analysis.tcav.cav import train_cav
from dashapp.analysis.tcav.span import CHUNK, lift, span_of
from dashapp.service.concepts.linear import sgd_fit


@pytest.mark.parametrize("width", [300, CHUNK + 77])  # one chunk, and several
def test_the_cav_in_the_span_is_the_cav_of_the_maps(width: int) -> None:
    rng = np.random.default_rng(1)
    concept = (rng.normal(size=(12, width)) + 0.3).astype(np.float32)
    other = rng.normal(size=(16, width)).astype(np.float32)
    full = train_cav(concept, other, sgd_fit, 4)
    span = span_of(concept, other)
    assert span.coords.shape == (28, 28)
    reduced = train_cav(span.coords[:12], span.coords[12:], sgd_fit, 4)
    lifted = lift(span, reduced.vector)
    assert reduced.accuracy == full.accuracy
    assert np.linalg.norm(lifted) == pytest.approx(1.0, abs=1e-6)
    assert float(lifted @ full.vector) > 0.999


def test_rows_keep_their_lengths_and_angles_and_zeros_have_no_direction() -> None:
    rows = np.random.default_rng(2).normal(size=(5, 40)).astype(np.float32)
    span = span_of(rows[:2], rows[2:])
    np.testing.assert_allclose(span.coords @ span.coords.T, rows.astype(np.float64) @ rows.T.astype(np.float64),
                               rtol=1e-9, atol=1e-9)
    zeros = span_of(np.zeros((3, 10), np.float32))
    assert not lift(zeros, np.ones(zeros.coords.shape[1])).any()
