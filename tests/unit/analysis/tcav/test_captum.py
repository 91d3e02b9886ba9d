"""Against Captum's TCAV (captum.concept.TCAV, a test dependency): given the
same CAV (our classifier, trained on our activations), the directional
derivatives and the TCAV scores are Captum's on the same model and inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from dashapp.analysis.models.capture import preprocess_batch
from dashapp.analysis.tcav.activations import class_gradients, layer_maps
from dashapp.analysis.tcav.cav import Cav, directional_derivatives, tcav_score, train_cav
from dashapp.service.concepts.linear import sgd_fit
from tests.support.planted_concepts import RED_CLASS, concept_model, images

captum_concept = pytest.importorskip("captum.concept")
captum_attr = pytest.importorskip("captum.attr")
from captum.concept._utils.classifier import Classifier  # noqa: E402

# Our layer (a conv: its rectified response) -> the module whose output that is, for Captum.
LAYERS = {"green": "green_relu", "red": "red_relu", "head": "head_relu"}
CONCEPT_ID, RANDOM_ID = 0, 1


class GivenCavs(Classifier):
    """Hands Captum our CAV for each layer, in the order Captum trains them (its ``layers``)."""

    def __init__(self, cavs: list[Cav]) -> None:
        self.cavs = list(cavs)
        self.current: Cav | None = None

    def train_and_eval(self, dataloader: Any, **kwargs: Any) -> dict[str, Any]:
        self.current = self.cavs.pop(0)
        return {"accs": torch.tensor(self.current.accuracy)}

    def weights(self) -> torch.Tensor:
        assert self.current is not None
        vector = torch.from_numpy(self.current.vector).float()
        return torch.stack([vector, -vector])  # the concept's row, the random set's row

    def classes(self) -> list[int]:
        return [CONCEPT_ID, RANDOM_ID]


@pytest.fixture(scope="module")
def setting():
    model = concept_model()
    concept, random, klass = images("red", 12), images("noise", 12), images("red", 10, offset=900)
    klass += images("noise", 6, offset=900)  # some class images the concept does not raise
    maps_c, maps_r = layer_maps(model, concept, list(LAYERS)), layer_maps(model, random, list(LAYERS))
    cavs = {layer: train_cav(maps_c[layer], maps_r[layer], sgd_fit, 3) for layer in LAYERS}
    grads = class_gradients(model, klass, list(LAYERS), RED_CLASS)
    tensors = {name: preprocess_batch(model, group) for name, group in
               (("concept", concept), ("random", random), ("class", klass))}
    return model, cavs, grads, tensors


def test_directional_derivatives_equal_captums_gradients_along_the_cav(setting) -> None:
    model, cavs, grads, tensors = setting
    modules = dict(model.module.named_modules())
    for layer, module_name in LAYERS.items():
        method = captum_attr.LayerGradientXActivation(model.module, modules[module_name], multiply_by_inputs=False)
        theirs = method.attribute(tensors["class"], target=RED_CLASS).flatten(1).double().numpy()
        np.testing.assert_allclose(grads[layer], theirs, rtol=1e-6, atol=1e-12)
        ours = directional_derivatives(grads[layer], cavs[layer])
        np.testing.assert_allclose(ours, theirs @ cavs[layer].vector, rtol=1e-6, atol=1e-12)


def test_tcav_scores_equal_captums(setting, tmp_path: Path) -> None:
    model, cavs, grads, tensors = setting
    concept = captum_concept.Concept(CONCEPT_ID, "red", [tensors["concept"]])
    random = captum_concept.Concept(RANDOM_ID, "noise", [tensors["random"]])
    tcav = captum_concept.TCAV(model.module, list(LAYERS.values()), classifier=GivenCavs([cavs[k] for k in LAYERS]),
                               save_path=str(tmp_path / "cav"))
    scores = tcav.interpret(tensors["class"], [[concept, random]], target=RED_CLASS)
    key = f"{CONCEPT_ID}-{RANDOM_ID}"
    found = []
    for layer, module_name in LAYERS.items():
        derivatives = directional_derivatives(grads[layer], cavs[layer])
        ours = tcav_score(derivatives)
        theirs = scores[key][module_name]
        assert ours == pytest.approx(float(theirs["sign_count"][0]), abs=1e-9)
        assert float(np.mean(derivatives)) == pytest.approx(float(theirs["magnitude"][0]), rel=1e-5, abs=1e-12)
        found.append(ours)
    assert found[1] == pytest.approx(10 / 16)  # red layer: the ten red squares rise, the six noise images do not
