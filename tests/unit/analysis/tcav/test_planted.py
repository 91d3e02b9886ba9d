"""TCAV on a model whose "red square" logit reads a known channel
(tests/support/planted_concepts.py): red squares raise it, significantly,
at the layers that carry the red detector; blue squares do not; the layer
before the red detector cannot even tell red squares from noise."""

from __future__ import annotations

import numpy as np
import pytest

from dashapp.analysis.tcav.activations import class_gradients, layer_maps
from dashapp.analysis.tcav.cav import Cav, directional_derivatives, tcav_score, train_cav
from dashapp.analysis.tcav.experiment import (
    assess_concepts,
    p_value,
    run_subsets,
    steps,
    subsample,
    threshold,
)
from dashapp.service.concepts.linear import sgd_fit
from tests.support.planted_concepts import RED_CLASS, concept_model, images

LAYERS = ["green", "red", "head"]
RUNS = 10


@pytest.fixture(scope="module")
def results():
    model = concept_model()
    concepts = {name: layer_maps(model, images(name, 20), LAYERS) for name in ("red", "blue")}
    random = layer_maps(model, images("noise", 40), LAYERS)
    gradients = class_gradients(model, images("red", 15, offset=500), LAYERS, RED_CLASS)
    done = []
    found = assess_concepts(concepts, random, gradients, LAYERS, RUNS, 0, sgd_fit, step=lambda: done.append(1))
    assert len(done) == steps(2, len(LAYERS), RUNS)
    return {(r.concept, r.layer): r for r in found}


@pytest.mark.parametrize("layer", ["red", "head"])
def test_red_squares_raise_the_red_square_logit_significantly(results, layer: str) -> None:
    result = results[("red", layer)]
    assert result.score_mean == 1.0 and result.score_std == 0.0
    assert result.cav_accuracy > 0.8  # well above chance (the layer before the detector: 0.3-0.7)
    assert result.significant and result.p_value < threshold(len(LAYERS), 2)
    assert all(d > 0 for d in result.derivatives)


@pytest.mark.parametrize("layer", LAYERS)
def test_blue_squares_are_not_significant(results, layer: str) -> None:
    result = results[("blue", layer)]
    assert not result.significant
    assert result.score_mean < 0.5  # the red-square logit never rises along blue


def test_the_layer_before_the_red_detector_is_at_chance(results) -> None:
    result = results[("red", "green")]
    assert 0.3 <= result.cav_accuracy <= 0.7
    assert not result.significant  # the logit does not read this layer at all


def test_blue_is_separable_where_the_blue_detector_is(results) -> None:
    assert results[("blue", "red")].cav_accuracy > 0.85


def test_the_null_varies_with_the_run_and_the_result_records_every_run(results) -> None:
    result = results[("red", "head")]
    assert len(result.scores) == len(result.null) == len(result.accuracies) == RUNS


def test_runs_draw_different_disjoint_subsets() -> None:
    seen = set()
    for run in range(5):
        concept, random, null = run_subsets(30, 40, run, seed=7)
        assert len(concept) == len(random) == len(null) == 20
        assert not set(random) & set(null)
        seen.add(tuple(random))
    assert len(seen) == 5
    assert all(np.array_equal(a, b) for a, b in zip(run_subsets(30, 40, 3, 7), run_subsets(30, 40, 3, 7), strict=True))


def test_subsample_is_seeded_and_bounded() -> None:
    assert subsample(5, 10, 0) == [0, 1, 2, 3, 4]
    chosen = subsample(5000, 100, 3)
    assert len(chosen) == 100 == len(set(chosen)) and chosen == subsample(5000, 100, 3) and chosen == sorted(chosen)


def test_p_value_of_constant_samples() -> None:
    assert p_value([1.0] * 5, [0.0] * 5) == 0.0
    assert p_value([0.0] * 5, [0.0] * 5) == 1.0
    assert 0 < p_value([0.9, 1.0, 0.8], [0.5, 0.4, 0.6]) < 0.05
    assert threshold(4, 3) == pytest.approx(0.05 / 12)


def test_a_cav_points_towards_the_concept_and_has_unit_length() -> None:
    rng = np.random.default_rng(0)
    concept = rng.normal(size=(20, 8)) + np.eye(8)[0] * 5
    other = rng.normal(size=(20, 8))
    cav = train_cav(concept, other, sgd_fit, 0)
    assert np.linalg.norm(cav.vector) == pytest.approx(1.0) and cav.vector[0] > 0.5 and cav.accuracy > 0.9
    assert tcav_score(directional_derivatives(np.eye(8)[[0, 0, 1]], cav)) == pytest.approx(2 / 3, abs=0.34)
    flat = train_cav(np.zeros((4, 3)), np.zeros((4, 3)), sgd_fit, 0)
    assert isinstance(flat, Cav) and not flat.vector.any()  # no direction: every derivative is 0, none positive
    with pytest.raises(ValueError):
        train_cav(concept[:1], other, sgd_fit, 0)
