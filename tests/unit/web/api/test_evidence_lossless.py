"""/api/evidence answers the computed map (float32) losslessly, not its
float16 rounding: bit for bit what a fresh computation gives, on the request
that computes it and on one the store answers, in this worker or another."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from dashapp.analysis.attribution.gradcam import evidence
from dashapp.service import Analyzer
from dashapp.state.schema import ViewState

LAYER, CLASS = "layer2.0.conv1", 281  # a 28 x 28 map: many distinct values


@pytest.fixture(scope="module")
def analyzer(make_analyzer: Callable[..., Analyzer]) -> Analyzer:
    return make_analyzer()


def answer(app: Any, sha: str) -> np.ndarray:
    got = app.server.test_client().get(f"/api/evidence?image={sha}&model=resnet18&layer={LAYER}&class={CLASS}")
    assert got.status_code == 200, got.get_json()
    return np.asarray(got.get_json()["map"], dtype=np.float64)


def test_the_answer_is_the_fresh_computation_bit_for_bit(analyzer: Analyzer, make_app: Callable[..., Any],
                                                         example_bytes: bytes) -> None:
    app = make_app(analyzer)
    posted = app.server.test_client().post("/api/images", data={"file": (io.BytesIO(example_bytes), "cat.png")},
                                           content_type="multipart/form-data")
    sha = posted.get_json()["sha256"]
    view = analyzer.open(ViewState(image=sha, model="resnet18"))
    fresh = evidence(view.loaded, view.image, LAYER, CLASS).map
    assert fresh.dtype == np.float32 and fresh.shape == (28, 28)
    # The precondition: float16 would lose something here.
    assert not np.array_equal(fresh.astype(np.float16).astype(np.float32), fresh)
    first = answer(app, sha)  # computed and stored
    np.testing.assert_array_equal(first, fresh.astype(np.float64))
    np.testing.assert_array_equal(answer(app, sha), first)  # from the store
    other = Analyzer(analyzer.settings, registry=analyzer.registry, backend=analyzer.activations.backend)
    np.testing.assert_array_equal(answer(make_app(other), sha), first)  # another worker reads the same numbers
