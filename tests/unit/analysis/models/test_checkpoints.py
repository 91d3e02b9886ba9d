"""Team checkpoints: weights-only loading, heads sized from the checkpoint,
clear refusals naming the keys, and content tags that follow the file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
import torchvision

from dashapp.analysis.models.checkpoints import (
    CheckpointError,
    TeamModelSpec,
    content_tag,
    file_digest,
    load_team_model,
    read_state_dict,
)
from dashapp.analysis.models.registry import ModelError, ModelRegistry

CLASSES = [f"kind{i}" for i in range(10)]


def write_team_checkpoint(folder: Path, seed: int = 1, classes: int = 10) -> tuple[Path, Path]:
    """A ResNet18 state_dict with a ``classes``-way head, and its class-names file."""
    torch.manual_seed(seed)
    model = torchvision.models.resnet18(num_classes=classes)
    checkpoint = folder / f"team{seed}.pt"
    torch.save(model.state_dict(), checkpoint)
    names = folder / "classes.txt"
    names.write_text("\n".join(f"kind{i}" for i in range(classes)) + "\n")
    return checkpoint, names


def test_a_ten_class_head_is_read_from_the_checkpoint(tmp_path: Path) -> None:
    checkpoint, names = write_team_checkpoint(tmp_path)
    spec = TeamModelSpec("team", "resnet18", checkpoint, names, input_size=160, mean=(0.5, 0.5, 0.5),
                         std=(0.25, 0.25, 0.25))
    loaded = ModelRegistry(("alexnet",), policy="random", device="cpu", team=(spec,)).get("team")
    assert loaded.module.fc.out_features == 10 and loaded.categories == CLASSES
    assert torch.equal(loaded.module.fc.weight, torch.load(checkpoint, weights_only=True)["fc.weight"])
    assert loaded.source == "team file" and loaded.input_size == 160
    assert loaded.trained_on == "team checkpoint"  # what every export says of its weights
    assert loaded.mean == (0.5, 0.5, 0.5) and loaded.std == (0.25, 0.25, 0.25)
    assert loaded.weights.tag == content_tag(checkpoint) and loaded.weights.tag.startswith("sha256-")
    # Layers come from the graph at the team's input size.
    assert loaded.layers["conv1"].map_size == (80, 80) and "layer4.1.conv2" in loaded.layers


def test_a_pickled_whole_model_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "whole.pt"
    torch.save(torchvision.models.resnet18(num_classes=10), path)  # pickles the class, not just tensors
    with pytest.raises(CheckpointError) as info:
        read_state_dict(path)
    message = str(info.value)
    assert "not a plain state_dict" in message and "torch.save(model.state_dict(), path)" in message
    assert "pickled torchvision.models.resnet.ResNet object" in message and "trust" not in message
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match=r"not a torch\.save file of tensors"):
        read_state_dict(path)
    torch.save([torch.zeros(2)], path)  # tensors, but not by name
    with pytest.raises(CheckpointError, match=r"does not hold a state_dict \(parameter name -> tensor\)"):
        read_state_dict(path)
    torch.save({"state_dict": {"module.fc.bias": torch.ones(2)}, "epoch": 3}, path)  # a training checkpoint
    assert list(read_state_dict(path)) == ["fc.bias"]


def test_a_mismatched_head_is_refused_with_the_key_names(tmp_path: Path) -> None:
    checkpoint, names = write_team_checkpoint(tmp_path)
    state = torch.load(checkpoint, weights_only=True)
    state["head.weight"] = state.pop("fc.weight")
    state["head.bias"] = state.pop("fc.bias")
    torch.save(state, checkpoint)
    with pytest.raises(ModelError) as info:
        ModelRegistry((), policy="random", device="cpu", team=(TeamModelSpec("team", "resnet18", checkpoint, names),))
    message = str(info.value)
    assert "missing keys: fc.bias, fc.weight" in message and "unexpected keys: head.bias, head.weight" in message


def test_the_wrong_architecture_names_missing_and_unexpected_keys(tmp_path: Path) -> None:
    checkpoint, names = write_team_checkpoint(tmp_path)
    with pytest.raises(CheckpointError) as info:
        load_team_model(TeamModelSpec("team", "resnet34", checkpoint, names))
    message = str(info.value)
    assert "does not match resnet34" in message and "missing keys: layer1.2.bn1.bias" in message


def test_a_head_of_the_wrong_width_names_the_tensor(tmp_path: Path) -> None:
    checkpoint, names = write_team_checkpoint(tmp_path)
    state = torch.load(checkpoint, weights_only=True)
    state["fc.weight"] = torch.zeros(10, 256)
    torch.save(state, checkpoint)
    with pytest.raises(CheckpointError, match=r"fc\.weight \(10, 256\) \(expected \(10, 512\)\)"):
        load_team_model(TeamModelSpec("team", "resnet18", checkpoint, names))


def test_class_names_must_match_the_head(tmp_path: Path) -> None:
    checkpoint, names = write_team_checkpoint(tmp_path)
    names.write_text("\n".join(CLASSES[:7]))
    with pytest.raises(CheckpointError, match=r"classifier has 10 classes but .* names 7"):
        load_team_model(TeamModelSpec("team", "resnet18", checkpoint, names))


def test_the_tag_changes_with_the_checkpoint_content(tmp_path: Path) -> None:
    checkpoint, names = write_team_checkpoint(tmp_path, seed=1)
    spec = TeamModelSpec("team", "resnet18", checkpoint, names)
    first = ModelRegistry((), policy="random", device="cpu", team=(spec,)).get("team").weights.tag
    assert ModelRegistry((), policy="random", device="cpu", team=(spec,)).get("team").weights.tag == first
    other, _ = write_team_checkpoint(tmp_path, seed=2)
    os.replace(other, checkpoint)  # the team retrained and replaced the file
    second = ModelRegistry((), policy="random", device="cpu", team=(spec,)).get("team").weights.tag
    assert second != first and second == content_tag(checkpoint)


def test_digest_is_sha256_of_the_bytes_and_follows_rewrites(tmp_path: Path) -> None:
    import hashlib

    path = tmp_path / "blob"
    path.write_bytes(b"one")
    assert file_digest(path) == hashlib.sha256(b"one").hexdigest()
    path.write_bytes(b"three")  # another size: another key
    assert file_digest(path) == hashlib.sha256(b"three").hexdigest()
    path.write_bytes(b"fives")  # same size, later mtime
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10_000_000))
    assert file_digest(path) == hashlib.sha256(b"fives").hexdigest()


def test_a_team_model_may_not_take_a_stock_models_name(tmp_path: Path) -> None:
    spec = TeamModelSpec("alexnet", "resnet18", tmp_path / "x.pt", tmp_path / "x.txt")
    with pytest.raises(ModelError, match="alexnet are in both DASHAPP_MODELS and the models file"):
        ModelRegistry(("alexnet",), policy="random", device="cpu", team=(spec,))
