"""A team's own models: a torchvision architecture with the team's checkpoint.

Checkpoints are read with ``torch.load(..., weights_only=True)`` only, so a
file can hold tensors and plain containers but never code: a pickled whole
model is refused with a message saying how to save a ``state_dict``. The
number of classes is read from the checkpoint's classifier, and every
mismatch (architecture, head, class names) is an error at start that names
the keys. Each checkpoint is identified by the SHA-256 of its bytes, computed
once per (path, size, mtime), which is the weights tag in every cache key.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
import torchvision
from torch import nn

HEX_IN_TAG = 16
SAVE_HINT = ("Save only the weights: torch.save(model.state_dict(), path) "
             "(a pickled whole model needs its code to load, and this app never runs code from a file).")


class CheckpointError(RuntimeError):
    """A team checkpoint or class-names file that cannot be used as configured."""


@dataclass(frozen=True)
class TeamModelSpec:
    """One entry of the models file (``DASHAPP_MODELS_FILE``)."""

    name: str
    architecture: str  # a torchvision classification model, e.g. "resnet18"
    checkpoint: Path  # a state_dict saved with torch.save
    classes: Path  # class names, one per line
    input_size: int = 224
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)


# -- content digests

_digests: dict[tuple[str, int, int], str] = {}
_digest_lock = threading.Lock()


def file_digest(path: Path) -> str:
    """SHA-256 (hex) of ``path``'s bytes, hashed once per (path, size, mtime):
    a replaced file gets a new digest, an unchanged one is not read again."""
    info = path.stat()
    key = (str(path.resolve()), info.st_size, info.st_mtime_ns)
    with _digest_lock:
        known = _digests.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    value = digest.hexdigest()
    with _digest_lock:
        _digests[key] = value
    return value


def content_tag(path: Path) -> str:
    """The short weights tag naming ``path``'s content."""
    return "sha256-" + file_digest(path)[:HEX_IN_TAG]


# -- reading a checkpoint


def _why(exc: Exception) -> str:
    """What the weights-only reader refused, without torch's advice to load it unsafely."""
    found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(exc))
    if found:
        return f"it holds a pickled {found.group(1)} object, which only code could rebuild"
    return "the weights-only reader refused it: it is not a torch.save file of tensors and plain containers"


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors by parameter name, read without unpickling any code."""
    if not path.is_file():
        raise CheckpointError(f"Checkpoint {path} does not exist.")
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # the weights-only unpickler refuses anything but tensors and containers
        raise CheckpointError(f"Checkpoint {path} is not a plain state_dict: {_why(exc)}. {SAVE_HINT}") from exc
    # A training checkpoint often wraps the weights: {"state_dict": {...}, "epoch": 3}.
    if isinstance(loaded, Mapping) and isinstance(loaded.get("state_dict"), Mapping):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, Mapping) or not loaded or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in loaded.items()):
        raise CheckpointError(f"Checkpoint {path} does not hold a state_dict (parameter name -> tensor). {SAVE_HINT}")
    # nn.DataParallel saves every name under "module.".
    if all(key.startswith("module.") for key in loaded):
        return {key[len("module."):]: value for key, value in loaded.items()}
    return dict(loaded)


def read_class_names(path: Path) -> list[str]:
    if not path.is_file():
        raise CheckpointError(f"Class-names file {path} does not exist.")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise CheckpointError(f"Class-names file {path} is not UTF-8 text.") from exc
    names = [line.strip() for line in lines if line.strip()]
    if not names:
        raise CheckpointError(f"Class-names file {path} is empty: write one class name per line.")
    return names


def classifier_name(module: nn.Module, classes: int) -> str:
    """The qualified name of the architecture's output layer: the last Linear
    (or 1×1 Conv, as in SqueezeNet) with ``classes`` outputs."""
    for name, child in reversed(list(module.named_modules())):
        if isinstance(child, nn.Linear) and child.out_features == classes:
            return name
        if isinstance(child, nn.Conv2d) and child.out_channels == classes:
            return name
    raise CheckpointError(f"Cannot find the classifier of {type(module).__name__}.")


def _describe_keys(missing: list[str], unexpected: list[str]) -> str:
    def listed(keys: list[str]) -> str:
        shown = ", ".join(keys[:12])
        return shown + (f" and {len(keys) - 12} more" if len(keys) > 12 else "") if keys else "none"

    return f"missing keys: {listed(missing)}; unexpected keys: {listed(unexpected)}"


def build_team_module(spec: TeamModelSpec, state: dict[str, torch.Tensor]) -> nn.Module:
    """The architecture with ``state`` loaded exactly; the head is sized from the checkpoint."""
    if spec.architecture not in torchvision.models.list_models(module=torchvision.models):
        raise CheckpointError(f"Model {spec.name!r}: {spec.architecture!r} is not a torchvision classification model.")
    reference = torchvision.models.get_model(spec.architecture, weights=None)
    head = classifier_name(reference, 1000)
    weight_key = f"{head}.weight"
    if weight_key not in state:
        missing = sorted(set(reference.state_dict()) - set(state))
        unexpected = sorted(set(state) - set(reference.state_dict()))
        raise CheckpointError(
            f"Model {spec.name!r}: {spec.checkpoint} is not a {spec.architecture} state_dict "
            f"(no classifier {weight_key}); {_describe_keys(missing, unexpected)}.")
    classes = int(state[weight_key].shape[0])
    module = torchvision.models.get_model(spec.architecture, weights=None, num_classes=classes)
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(f"Model {spec.name!r}: {spec.checkpoint} does not match {spec.architecture}; "
                              f"{_describe_keys(missing, unexpected)}.")
    wrong = [f"{key} {tuple(state[key].shape)} (expected {tuple(value.shape)})"
             for key, value in expected.items() if state[key].shape != value.shape]
    if wrong:
        raise CheckpointError(f"Model {spec.name!r}: {spec.checkpoint} has tensors of the wrong shape for "
                              f"{spec.architecture}: {', '.join(wrong[:8])}.")
    module.load_state_dict(state, strict=True)
    return module


def load_team_model(spec: TeamModelSpec) -> tuple[nn.Module, list[str], str]:
    """(module, class names, weights tag) for ``spec``, or a ``CheckpointError`` saying what is wrong."""
    module = build_team_module(spec, read_state_dict(spec.checkpoint))
    names = read_class_names(spec.classes)
    classes = classifier_outputs(module)
    if classes != len(names):
        raise CheckpointError(f"Model {spec.name!r}: the checkpoint's classifier has {classes} classes but "
                              f"{spec.classes} names {len(names)}; write one name per class, in output order.")
    return module, names, content_tag(spec.checkpoint)


def classifier_outputs(module: nn.Module) -> int:
    """How many classes ``module`` predicts (its last Linear's or 1×1 Conv's outputs)."""
    for child in reversed(list(module.modules())):
        if isinstance(child, nn.Linear):
            return child.out_features
        if isinstance(child, nn.Conv2d):
            return child.out_channels
    return 0
