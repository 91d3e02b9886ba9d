"""Model registry: torchvision classifiers loaded once per process.

Each model is built once, put in eval mode with gradients off, and described:
its analysable conv layers by qualified name, their sizes and receptive
fields, the 1000 ImageNet category names from torchvision's weight metadata,
and whether its weights are the real pretrained ones (``WeightsStatus``).
"""

from __future__ import annotations

import logging
import os
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torchvision
from torch import nn

from .graph import ReceptiveField, analyse_graph, map_size

log = logging.getLogger(__name__)

INPUT_SIZE = 224
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
WEIGHTS_DOWNLOAD_TIMEOUT_S = 15.0

ProgressFn = Callable[[float, str], None]


class ModelError(RuntimeError):
    """A model that cannot be offered: unknown name, or weights that cannot be had."""


@dataclass(frozen=True)
class WeightsStatus:
    pretrained: bool
    reason: str | None = None  # why the weights are untrained, when they are
    seed: int | None = None

    @property
    def label(self) -> str:
        return "pretrained" if self.pretrained else "untrained"

    @property
    def tag(self) -> str:
        """Short identity of the weights, part of every cache key: results from
        random weights must never be served as results from real ones."""
        return "pretrained" if self.pretrained else f"random{self.seed}"

    def as_dict(self) -> dict[str, object]:
        return {"status": self.label, "pretrained": self.pretrained, "reason": self.reason}


@dataclass(frozen=True)
class LayerInfo:
    name: str
    out_channels: int
    in_channels: int
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    map_size: tuple[int, int]  # (height, width) at the model's input size
    sees_image: bool
    receptive_field: ReceptiveField
    norm: str | None
    activation: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "out_channels": self.out_channels,
            "in_channels": self.in_channels,
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "map_size": list(self.map_size),
            "sees_image": self.sees_image,
            "receptive_field": self.receptive_field.size,
        }


@dataclass
class LoadedModel:
    name: str
    module: nn.Module
    layers: dict[str, LayerInfo]
    categories: list[str]
    weights: WeightsStatus
    device: torch.device
    input_size: int = INPUT_SIZE
    # One forward pass at a time per model: hooks are registered per call, and
    # a concurrent pass would fire another request's hooks.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def layer(self, name: str) -> LayerInfo:
        try:
            return self.layers[name]
        except KeyError:
            raise ModelError(f"{self.name} has no conv layer named {name!r}") from None


def describe(
    name: str,
    module: nn.Module,
    categories: list[str],
    weights: WeightsStatus,
    device: torch.device,
    input_size: int = INPUT_SIZE,
) -> LoadedModel:
    """Wrap any conv classifier (torchvision's or a hand-built test model)."""
    module.eval().requires_grad_(False).to(device)
    topology = analyse_graph(module)
    modules = dict(module.named_modules())
    sizes = map_size(module, list(topology), input_size)
    layers: dict[str, LayerInfo] = {}
    for layer_name, topo in topology.items():
        conv = modules[layer_name]
        assert isinstance(conv, nn.Conv2d)
        layers[layer_name] = LayerInfo(
            name=layer_name,
            out_channels=conv.out_channels,
            in_channels=conv.in_channels,
            kernel_size=(int(conv.kernel_size[0]), int(conv.kernel_size[1])),
            stride=(int(conv.stride[0]), int(conv.stride[1])),
            map_size=sizes[layer_name],
            sees_image=topo.sees_image and conv.in_channels == 3,
            receptive_field=topo.receptive_field,
            norm=topo.norm,
            activation=topo.activation,
        )
    return LoadedModel(name, module, layers, categories, weights, device, input_size)


def available_models() -> set[str]:
    return set(torchvision.models.list_models(module=torchvision.models))


def resolve_device(requested: str | None) -> torch.device:
    if requested:
        device = torch.device(requested)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ModelError(f"DASHAPP_DEVICE={requested} but CUDA is not available on this machine")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def weights_file(name: str) -> Path:
    """Where torchvision's loader looks for ``name``'s ImageNet checkpoint."""
    weights = torchvision.models.get_model_weights(name).DEFAULT
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights.url)


def _download(url: str, target: Path, progress: ProgressFn | None) -> None:
    """Fetch a checkpoint into the hub cache with a timeout (torch.hub's own
    downloader has none, so an offline machine could hang), atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        with urllib.request.urlopen(url, timeout=WEIGHTS_DOWNLOAD_TIMEOUT_S) as response, open(partial, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(1 << 20):
                out.write(chunk)
                done += len(chunk)
                if progress and total:
                    progress(done / total, f"Downloading weights: {done >> 20} of {total >> 20} MB")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def weights_url(name: str, mirror: str | None = None) -> str:
    """torchvision's download address, or the same file name under ``mirror``
    (a team's own copy, for hosts that cannot reach the internet)."""
    url = torchvision.models.get_model_weights(name).DEFAULT.url
    return f"{mirror.rstrip('/')}/{os.path.basename(url)}" if mirror else url


def ensure_weights_file(name: str, progress: ProgressFn | None = None, mirror: str | None = None) -> Path:
    """Make sure ``name``'s checkpoint is in the hub cache, downloading it if needed."""
    target = weights_file(name)
    if not target.exists():
        url = weights_url(name, mirror)
        try:
            _download(url, target, progress)
        except Exception as exc:  # any network failure means "cannot be had"
            raise ModelError(
                f"ImageNet weights for {name} are not available: expected {target.name} in {target.parent} "
                f"(download from {url} failed: {exc}). Copy the file there, or set DASHAPP_WEIGHTS=random."
            ) from exc
    return target


def _load_pretrained(name: str, module: nn.Module, progress: ProgressFn | None, mirror: str | None = None) -> None:
    weights = torchvision.models.get_model_weights(name).DEFAULT
    target = ensure_weights_file(name, progress, mirror)
    try:
        # torchvision's normal loading path: it finds the file in the hub cache.
        state = weights.get_state_dict(progress=False)
        module.load_state_dict(state)
    except Exception as exc:
        raise ModelError(f"ImageNet weights for {name} in {target} could not be loaded: {exc}") from exc


def build_torchvision_model(
    name: str,
    policy: str,
    seed: int,
    device: torch.device,
    progress: ProgressFn | None = None,
    mirror: str | None = None,
) -> LoadedModel:
    """Build ``name`` under the weights policy (auto, pretrained or random)."""
    if name not in available_models():
        raise ModelError(f"{name!r} is not a torchvision classification model")
    weights_enum = torchvision.models.get_model_weights(name).DEFAULT
    categories = list(weights_enum.meta["categories"])
    # The same seed in every worker gives the same random weights, so a cached
    # activation means the same thing whichever worker computed it.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = torchvision.models.get_model(name, weights=None)
    status = WeightsStatus(pretrained=False, reason="DASHAPP_WEIGHTS=random", seed=seed)
    if policy in ("auto", "pretrained"):
        try:
            _load_pretrained(name, module, progress, mirror)
            status = WeightsStatus(pretrained=True)
        except ModelError as exc:
            if policy == "pretrained":
                raise
            log.warning("%s; falling back to seeded random weights", exc)
            status = WeightsStatus(pretrained=False, reason=str(exc), seed=seed)
    if progress:
        progress(1.0, f"{name} ready")
    return describe(name, module, categories, status, device)


class ModelRegistry:
    """Loads each enabled model once per process; safe to share between threads."""

    def __init__(self, names: tuple[str, ...], policy: str, seed: int = 0, device: str | None = None,
                 mirror: str | None = None) -> None:
        unknown = [name for name in names if name not in available_models()]
        if unknown:
            raise ModelError(f"Unknown model(s) in DASHAPP_MODELS: {', '.join(unknown)}")
        self.names = names
        self.policy = policy
        self.mirror = mirror
        self.seed = seed
        self.device = resolve_device(device)
        self._models: dict[str, LoadedModel] = {}
        self._locks = {name: threading.Lock() for name in names}
        self._tables: dict[str, dict[str, LayerInfo]] = {}

    def is_loaded(self, name: str) -> bool:
        return name in self._models

    def loaded(self, name: str) -> LoadedModel | None:
        """The model if this process has loaded it already, without loading it."""
        return self._models.get(name)

    def get(self, name: str, progress: ProgressFn | None = None) -> LoadedModel:
        if name not in self._locks:
            raise ModelError(f"Unknown model {name!r}; available: {', '.join(self.names)}")
        loaded = self._models.get(name)
        if loaded is not None:
            return loaded
        with self._locks[name]:
            loaded = self._models.get(name)
            if loaded is None:
                loaded = build_torchvision_model(name, self.policy, self.seed, self.device, progress, self.mirror)
                self._models[name] = loaded
        return loaded

    def needs_download(self, name: str) -> bool:
        """Whether getting ``name`` would first fetch its weights from the network."""
        return (
            name not in self._models
            and self.policy != "random"
            and name in available_models()
            and not weights_file(name).exists()
        )

    def layers(self, name: str) -> dict[str, LayerInfo]:
        """The layer table without waiting for weights: the loaded model's, or
        one described from the bare architecture (layers, sizes and fields do
        not depend on the weights)."""
        if name in self._models or not self.needs_download(name):
            return self.get(name).layers
        with self._locks[name]:
            table = self._tables.get(name)
            if table is None:
                module = torchvision.models.get_model(name, weights=None)
                table = describe(name, module, [], WeightsStatus(False), torch.device("cpu")).layers
                self._tables[name] = table
        return table
