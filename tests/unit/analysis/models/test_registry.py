"""Weights policy: the real torchvision loading path on a checkpoint the test
writes itself, and clear failures and fallbacks when weights cannot be had."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision

from dashapp.analysis.models import weights
from dashapp.analysis.models.checkpoints import content_tag
from dashapp.analysis.models.registry import ModelError, ModelRegistry, weights_file


@pytest.fixture
def torch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def offline(url: str, target: Path, report: object) -> None:
        raise OSError("no network in tests")

    # Never touch the network: a missing file means "cannot be had".
    monkeypatch.setattr(weights, "_fetch", offline)
    return tmp_path / "torch"


def test_pretrained_loads_a_checkpoint_through_torchvision(torch_home: Path) -> None:
    path = weights_file("resnet18")
    assert path.parent == torch_home / "hub" / "checkpoints"
    path.parent.mkdir(parents=True)
    torch.manual_seed(123)
    reference = torchvision.models.resnet18()
    torch.save(reference.state_dict(), path)
    loaded = ModelRegistry(("resnet18",), policy="pretrained", device="cpu").get("resnet18")
    assert loaded.weights.pretrained and loaded.weights.label == "pretrained"
    # The tag names the file's content, so a replaced checkpoint never serves the old one's maps.
    assert loaded.weights.tag == content_tag(path) and loaded.weights.tag.startswith("sha256-")
    assert torch.equal(loaded.module.conv1.weight, reference.conv1.weight)
    assert torch.equal(loaded.module.fc.bias, reference.fc.bias)
    assert loaded.trained_on == "ImageNet"  # what every export says of them


def test_pretrained_without_weights_names_the_file_and_keeps_the_folder_for_the_log(
        torch_home: Path, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ModelError) as info:
        ModelRegistry(("alexnet",), policy="pretrained", device="cpu").get("alexnet")
    message = str(info.value)
    assert "alexnet-owt-7be5be79.pth" in message and "DASHAPP_WEIGHTS" in message
    assert str(torch_home) not in message  # a user-facing message: no server paths
    assert str(torch_home / "hub" / "checkpoints") in caplog.text


def test_auto_falls_back_to_seeded_random_and_says_why(torch_home: Path) -> None:
    registry = ModelRegistry(("resnet18",), policy="auto", seed=7, device="cpu")
    assert registry.needs_download("resnet18")
    loaded = registry.get("resnet18")
    assert not loaded.weights.pretrained and "resnet18-f37072fd.pth" in (loaded.weights.reason or "")
    assert loaded.weights.tag == "random7" and loaded.trained_on == "random"
    again = ModelRegistry(("resnet18",), policy="auto", seed=7, device="cpu").get("resnet18")
    assert torch.equal(again.module.conv1.weight, loaded.module.conv1.weight)  # same seed, same weights
    assert not registry.needs_download("resnet18")


def test_a_corrupt_checkpoint_is_a_clear_error(torch_home: Path) -> None:
    path = weights_file("resnet18")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="could not be loaded"):
        ModelRegistry(("resnet18",), policy="pretrained", device="cpu").get("resnet18")
    fallback = ModelRegistry(("resnet18",), policy="auto", device="cpu").get("resnet18")
    assert not fallback.weights.pretrained and "could not be loaded" in (fallback.weights.reason or "")


def test_layer_table_without_waiting_for_weights(torch_home: Path) -> None:
    registry = ModelRegistry(("alexnet",), policy="auto", device="cpu")
    table = registry.layers("alexnet")  # no download attempted: the architecture suffices
    assert list(table) == ["features.0", "features.3", "features.6", "features.8", "features.10"]
    assert not registry.is_loaded("alexnet")


def test_layers_are_listed_with_sizes(registry: ModelRegistry) -> None:
    resnet = registry.get("resnet18")
    assert list(resnet.layers)[:3] == ["conv1", "layer1.0.conv1", "layer1.0.conv2"]
    assert "layer2.0.downsample.0" in resnet.layers
    conv1 = resnet.layers["conv1"]
    assert (conv1.out_channels, conv1.in_channels, conv1.kernel_size, conv1.map_size) == (64, 3, (7, 7), (112, 112))
    assert resnet.layers["layer2.0.conv1"].map_size == (28, 28)
    assert resnet.layers["conv1"].norm == "bn1"
    assert conv1.sees_image and not resnet.layers["layer1.0.conv1"].sees_image
    alexnet = registry.get("alexnet")
    assert list(alexnet.layers) == ["features.0", "features.3", "features.6", "features.8", "features.10"]
    assert alexnet.layers["features.0"].kernel_size == (11, 11)
    assert alexnet.layers["features.0"].map_size == (55, 55)
    assert len(resnet.categories) == 1000 and resnet.categories[0] == "tench"
