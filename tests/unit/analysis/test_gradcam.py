"""Class evidence: planted ground truth and the model-randomization sanity check."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.stats import spearmanr

from dashapp.analysis.gradcam import class_evidence, randomized_above
from dashapp.analysis.models import ModelRegistry
from dashapp.analysis.regions import find_regions
from tests.conftest import EXAMPLES
from tests.support.planted import RED, planted_model, red_square_image

SQUARE = (60, 40, 180, 160)


@pytest.mark.parametrize("method", ["gradcam", "gradcam++"])
def test_evidence_for_the_planted_class_falls_on_the_square(method: str) -> None:
    model = planted_model()
    image = red_square_image(300, 200, box=SQUARE)
    cam = class_evidence(model, image, "conv", RED, method)
    assert cam.shape == (224, 224) and cam.min() >= 0 and cam.max() > 0
    best = find_regions(cam, image.width, image.height).regions[0]
    for got, want in zip((best.x0, best.y0, best.x1, best.y1), SQUARE, strict=True):
        assert abs(got - want) <= 4
    # Almost all the evidence mass lies inside the square.
    up = np.asarray(Image.fromarray(cam).resize(image.size, Image.Resampling.BILINEAR))
    inside = up[SQUARE[1]:SQUARE[3], SQUARE[0]:SQUARE[2]].sum()
    assert inside / up.sum() > 0.9


@pytest.mark.parametrize(("model_name", "layer"), [("resnet18", "layer4.1.conv2"), ("resnet18", "layer3.1.conv2"),
                                                   ("alexnet", "features.10")])
def test_randomizing_the_layers_above_changes_the_map(registry: ModelRegistry, model_name: str, layer: str) -> None:
    loaded = registry.get(model_name)
    image = Image.open(EXAMPLES / "chelsea.png").convert("RGB")
    before = class_evidence(loaded, image, layer, 281)
    weights_before = {k: v.clone() for k, v in loaded.module.state_dict().items()}
    with randomized_above(loaded, layer):
        randomized = class_evidence(loaded, image, layer, 281)
    rho = spearmanr(before.ravel(), randomized.ravel())[0]
    # Adebayo et al.: a faithful method's map must change when the model does.
    assert np.isnan(rho) or abs(rho) < 0.5, rho
    # ...and the model is restored afterwards.
    for key, value in loaded.module.state_dict().items():
        assert torch.equal(value, weights_before[key])
    np.testing.assert_allclose(class_evidence(loaded, image, layer, 281), before, rtol=1e-5, atol=1e-6)


def test_evidence_differs_between_classes_and_rejects_bad_ones(registry: ModelRegistry) -> None:
    loaded = registry.get("resnet18")
    image = Image.open(EXAMPLES / "coffee.png").convert("RGB")
    a = class_evidence(loaded, image, "layer4.1.conv2", 1)
    b = class_evidence(loaded, image, "layer4.1.conv2", 900)
    assert not np.allclose(a, b)
    with pytest.raises(ValueError):
        class_evidence(loaded, image, "layer4.1.conv2", 1000)
    with pytest.raises(ValueError):
        class_evidence(loaded, image, "layer4.1.conv2", 1, "saliency")
