"""The circuit decomposition is exact, and finds planted wiring."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from dashapp.analysis.circuits.circuit import circuit, ranked
from dashapp.analysis.models.capture import capture
from dashapp.analysis.models.registry import LoadedModel
from tests.conftest import EXAMPLES
from tests.support.planted_circuit import PLANTED_FILTER, PLANTED_INPUT, PLANTED_READERS, circuit_model

RELATIVE = 1e-5
# ResNet18 and AlexNet at a 112 px input (tests/unit/analysis/conftest.py):
# the decomposition is exact at any input size, at a quarter of the cost.
Models = Callable[[str], LoadedModel]


@pytest.fixture(scope="module")
def image() -> Image.Image:
    return Image.open(EXAMPLES / "chelsea.png").convert("RGB")


@pytest.mark.parametrize(("model", "layer", "why"), [
    ("resnet18", "conv1", "strided 7×7 on the image"),
    ("resnet18", "layer1.0.conv1", "after the max-pool"),
    ("resnet18", "layer2.0.conv1", "strided, reads a stage output"),
    ("resnet18", "layer2.0.downsample.0", "strided 1×1 shortcut"),
    ("resnet18", "layer4.1.conv2", "last conv, BatchNorm before the residual add"),
    ("alexnet", "features.0", "stride 4 on the image"),
    ("alexnet", "features.3", "after the max-pool"),
    ("alexnet", "features.10", "last conv"),
])
def test_contributions_sum_to_the_pre_activation(small_input: Models, image: Image.Image, model: str, layer: str,
                                                 why: str) -> None:
    loaded = small_input(model)
    for index in (0, loaded.layer(layer).out_channels - 1):
        found = circuit(loaded, image, layer, index)
        total = np.sum([link.contribution for link in found.inputs], dtype=np.float64) + found.bias
        assert total == pytest.approx(found.value, rel=1e-12)
        assert found.check <= RELATIVE, why
        assert len(found.inputs) == loaded.layer(layer).in_channels
        # Another cell than the peak decomposes as exactly.
        other = circuit(loaded, image, layer, index, cell=(0, 0))
        assert abs(other.value - other.network_value) <= RELATIVE * max(abs(other.network_value), found.value)


def test_peak_value_is_the_responses_max(small_input: Models, image: Image.Image) -> None:
    loaded = small_input("resnet18")
    response = capture(loaded, image, ["layer2.0.conv1"]).responses["layer2.0.conv1"]
    index = int(np.argmax(response.max(axis=(1, 2))))
    found = circuit(loaded, image, "layer2.0.conv1", index)
    assert found.value == pytest.approx(float(response[index].max()), rel=1e-5)
    row, col = found.cell
    assert response[index, row, col] == response[index].max()


def test_planted_filter_reads_only_its_channel() -> None:
    loaded = circuit_model()
    image = Image.fromarray(np.random.default_rng(3).integers(0, 255, (40, 40, 3), dtype=np.uint8))
    found = circuit(loaded, image, "conv2", PLANTED_FILTER)
    top = ranked(found.inputs, "peak", 1)[0]
    assert top.channel == PLANTED_INPUT
    assert top.source == "pool" and top.layer == "conv1"
    assert top.contribution == pytest.approx(found.value - found.bias, rel=1e-12)  # 100 % of the contribution
    assert all(link.contribution == 0 for link in found.inputs if link.channel != PLANTED_INPUT)
    assert ranked(found.inputs, "weight", 1)[0].channel == PLANTED_INPUT
    assert ranked(found.inputs, "map", 1)[0].channel == PLANTED_INPUT
    assert sorted(link.channel for link in found.outputs) == list(PLANTED_READERS)
    assert {link.layer for link in found.outputs} == {"conv3"}
    assert found.check <= RELATIVE


def test_outputs_name_the_identity_path(small_input: Models, image: Image.Image) -> None:
    loaded = small_input("resnet18")
    found = circuit(loaded, image, "layer1.0.conv2", 5)
    identity = [link for link in found.outputs if link.kind == "identity"]
    assert [(link.layer, link.channel) for link in identity] == [("layer1.1", 5)]
    readers = {link.layer for link in found.outputs if link.kind == "conv"}
    assert readers == {"layer1.1.conv1"}
    assert all(link.source == "layer1.0" for link in found.outputs if link.kind == "conv")
    # ranked by weight: the norms of W_next[g, 5], highest first
    by_weight = [link.weight_norm for link in ranked(found.outputs, "weight", 0) if link.kind == "conv"]
    assert by_weight == sorted(by_weight, reverse=True) and len(by_weight) == 64


def test_inputs_are_named_by_the_module_producing_them(small_input: Models, image: Image.Image) -> None:
    resnet = small_input("resnet18")
    assert circuit(resnet, image, "layer2.0.conv1", 0).inputs[12].source == "layer1"
    assert circuit(resnet, image, "conv1", 0).inputs[0].kind == "image"
    alexnet = small_input("alexnet")
    first = circuit(alexnet, image, "features.3", 0).inputs[0]
    assert (first.source, first.layer) == ("features.2", "features.0")


def test_unknown_ranking_and_bad_cell_are_refused(small_input: Models, image: Image.Image) -> None:
    loaded = small_input("alexnet")
    found = circuit(loaded, image, "features.10", 0)
    with pytest.raises(ValueError):
        ranked(found.inputs, "loudest", 3)
    with pytest.raises(ValueError):
        circuit(loaded, image, "features.10", 0, cell=(99, 0))
    with pytest.raises(ValueError):
        circuit(loaded, image, "features.10", 256)
