"""Class evidence: planted ground truth, the papers' formulas written out
independently here, block layers, and storage without loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from dashapp.analysis.attribution.gradcam import class_evidence, evidence
from dashapp.analysis.maps.regions import find_regions
from dashapp.analysis.models.capture import preprocess
from dashapp.analysis.models.registry import LoadedModel, ModelError, ModelRegistry
from dashapp.store import decode_maps, encode_maps
from tests.conftest import EXAMPLES
from tests.support.planted import RED, planted_model, red_square_image

SQUARE = (60, 40, 180, 160)
CLASS = 281


@pytest.mark.parametrize("method", ["gradcam", "gradcam++"])
def test_evidence_for_the_planted_class_falls_on_the_square(method: str) -> None:
    model = planted_model()
    image = red_square_image(300, 200, box=SQUARE)
    cam = class_evidence(model, image, "conv", RED, method)
    assert cam.shape == (224, 224) and cam.min() >= 0 and cam.max() == pytest.approx(1.0)
    best = find_regions(cam, image.width, image.height).regions[0]
    for got, want in zip((best.x0, best.y0, best.x1, best.y1), SQUARE, strict=True):
        assert abs(got - want) <= 4
    # Almost all the evidence mass lies inside the square.
    up = np.asarray(Image.fromarray(cam).resize(image.size, Image.Resampling.BILINEAR))
    inside = up[SQUARE[1]:SQUARE[3], SQUARE[0]:SQUARE[2]].sum()
    assert inside / up.sum() > 0.9


# ------------------------------------------------ an independent reference from the papers


def paper_cam(maps: torch.Tensor, grads: torch.Tensor, method: str) -> np.ndarray:
    """Selvaraju et al. 2017, eq. 1-2; Chattopadhay et al. 2018, eq. 19 (exponential
    score: higher derivatives as powers of the first), per channel in float64."""
    a, g = maps.detach()[0].double().numpy(), grads.detach()[0].double().numpy()
    k, h, w = a.shape
    weights = np.zeros(k)
    for c in range(k):
        if method == "gradcam":
            weights[c] = g[c].sum() / (h * w)  # global average pooling of the gradient
        else:
            denominator = 2 * g[c] ** 2 + a[c].sum() * g[c] ** 3
            alpha = np.divide(g[c] ** 2, denominator, out=np.zeros_like(denominator), where=denominator != 0)
            weights[c] = (alpha * np.maximum(g[c], 0)).sum()
    return np.maximum(np.tensordot(weights, a, axes=1), 0)


def resnet_reference(loaded: LoadedModel, image: Image.Image, layer: str, method: str) -> np.ndarray:
    """ResNet18 written out by hand (no hooks): the weighed maps are explicit tensors."""
    m = loaded.module
    x = preprocess(image, loaded.input_size).requires_grad_(True)
    with torch.enable_grad():
        h = m.layer3(m.layer2(m.layer1(m.maxpool(m.relu(m.bn1(m.conv1(x)))))))
        h = m.layer4[0](h)
        block = m.layer4[1]
        a1 = torch.relu(block.bn1(block.conv1(h)))  # layer4.1.conv1's rectified response
        t2 = block.bn2(block.conv2(a1))  # goes to the residual add before any ReLU
        out = torch.relu(t2 + h)  # the block output: layer4.1 and layer4
        logits = m.fc(torch.flatten(m.avgpool(out), 1))
        if layer == "layer4.1.conv2":
            # The response is relu(t2); with the rest of the network held fixed
            # the score's sensitivity to it is its sensitivity to t2.
            (g,) = torch.autograd.grad(logits[0, CLASS], t2)
            return paper_cam(torch.relu(t2), g, method)
        maps = {"layer4.1.conv1": a1, "layer4.1": out, "layer4": out}[layer]
        (g,) = torch.autograd.grad(logits[0, CLASS], maps)
    return paper_cam(maps, g, method)


def alexnet_reference(loaded: LoadedModel, image: Image.Image, layer: str, method: str) -> np.ndarray:
    """AlexNet split at the ReLU after ``layer`` (features.0 -> ReLU at 1, features.10 -> ReLU at 11)."""
    m = loaded.module
    cut = int(layer.split(".")[1]) + 2
    x = preprocess(image, loaded.input_size).requires_grad_(True)
    with torch.enable_grad():
        maps = m.features[:cut](x)
        logits = m.classifier(torch.flatten(m.avgpool(m.features[cut:](maps)), 1))
        (g,) = torch.autograd.grad(logits[0, CLASS], maps)
    return paper_cam(maps, g, method)


CASES = [("resnet18", "layer4"), ("resnet18", "layer4.1"), ("resnet18", "layer4.1.conv1"),
         ("resnet18", "layer4.1.conv2"), ("alexnet", "features.10"), ("alexnet", "features.0")]


@pytest.mark.parametrize("method", ["gradcam", "gradcam++"])
@pytest.mark.parametrize(("model_name", "layer"), CASES)
def test_evidence_matches_the_papers_formula(registry: ModelRegistry, model_name: str, layer: str,
                                             method: str) -> None:
    loaded = registry.get(model_name)
    image = Image.open(EXAMPLES / "chelsea.png").convert("RGB")
    reference = (resnet_reference if model_name == "resnet18" else alexnet_reference)(loaded, image, layer, method)
    got = evidence(loaded, image, layer, CLASS, method)
    assert reference.max() > 0 and np.isfinite(reference).all()
    assert got.scale == pytest.approx(reference.max(), rel=1e-5)
    np.testing.assert_allclose(got.map, reference / reference.max(), rtol=1e-5, atol=1e-5)
    assert np.count_nonzero(got.map) == np.count_nonzero(reference)


def test_gradient_is_taken_after_the_relu(registry: ModelRegistry) -> None:
    """At layer4.1.conv1 the weighed maps are the ReLU's output: taken at the
    BatchNorm output instead, the gradient is zero wherever the response is 0."""
    loaded = registry.get("resnet18")
    image = Image.open(EXAMPLES / "chelsea.png").convert("RGB")
    m = loaded.module
    x = preprocess(image, loaded.input_size).requires_grad_(True)
    with torch.enable_grad():
        h = m.layer4[0](m.layer3(m.layer2(m.layer1(m.maxpool(m.relu(m.bn1(m.conv1(x))))))))
        block = m.layer4[1]
        t1 = block.bn1(block.conv1(h))
        a1 = torch.relu(t1)
        out = torch.relu(block.bn2(block.conv2(a1)) + h)
        score = m.fc(torch.flatten(m.avgpool(out), 1))[0, CLASS]
        g_after, g_before = torch.autograd.grad(score, (a1, t1))
    silent = a1 == 0
    assert silent.any() and (g_before[silent] == 0).all() and (g_after[silent] != 0).any()
    before = paper_cam(a1, g_before, "gradcam")
    np.testing.assert_allclose(evidence(loaded, image, "layer4.1.conv1", CLASS).map,
                               paper_cam(a1, g_after, "gradcam") / paper_cam(a1, g_after, "gradcam").max(),
                               rtol=1e-5, atol=1e-5)
    assert not np.allclose(evidence(loaded, image, "layer4.1.conv1", CLASS).map, before / before.max(), atol=1e-3)


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
    with pytest.raises(ModelError):
        class_evidence(loaded, image, "layer9", 1)


def test_evidence_survives_the_stores_float16_codec(registry: ModelRegistry) -> None:
    """Raw Grad-CAM magnitudes are tiny and float16 flushes them; the
    normalized map (max 1, scale kept beside it) keeps its distinct values."""
    loaded = registry.get("alexnet")
    image = Image.open(EXAMPLES / "chelsea.png").convert("RGB")
    result = evidence(loaded, image, "features.0", CLASS)
    stored = decode_maps(encode_maps(result.map[None]))[0].astype(np.float32)
    positive = result.map > 0
    distinct = np.unique(result.map[positive]).size
    assert distinct > 500 and result.scale > 0
    # Only values closer than float16's relative step (2**-11) may merge; the raw
    # magnitudes once went from ~1400 distinct values to 9.
    assert np.unique(stored[positive]).size >= 0.85 * distinct
    assert (stored[positive] > 0).all()  # no positive cell flushed to zero
    np.testing.assert_allclose(stored, result.map, rtol=2**-10, atol=0)
    np.testing.assert_allclose(stored * result.scale, result.map * result.scale, rtol=2**-10, atol=0)


def test_block_layers_are_evidence_layers(registry: ModelRegistry) -> None:
    resnet = registry.get("resnet18")
    kinds = {e.name: e.kind for e in resnet.evidence_layers()}
    for name in ("layer1", "layer4", "layer4.0", "layer4.1"):
        assert kinds[name] == "block"
    assert kinds["layer4.1.conv2"] == "conv" and "layer4.0.downsample" not in kinds
    assert resnet.default_evidence_layer == "layer4"
    alexnet = registry.get("alexnet")
    assert {e.kind for e in alexnet.evidence_layers()} == {"conv"}
    assert alexnet.default_evidence_layer == "features.10"
