"""Model registry: torchvision classifiers loaded once per process.

Each model is built once, put in eval mode with gradients off, and described:
its analysable conv layers by qualified name, their sizes and receptive
fields, the 1000 ImageNet category names from torchvision's weight metadata,
and whether its weights are the real pretrained ones (``WeightsStatus``).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torchvision
from torch import nn

from dashapp.analysis.messages import N_, Explained
from dashapp.analysis.models import shared_weights, weights
from dashapp.analysis.models.blocks import (
    BlockInfo,
    EvidenceLayer,
    block_names,
    default_evidence_layer,
    describe_blocks,
    field_summary,
    order_evidence_layers,
)
from dashapp.analysis.models.checkpoints import CheckpointError, TeamModelSpec, content_tag, load_team_model
from dashapp.analysis.models.graph import ReceptiveField, describe_graph, output_shapes

log = logging.getLogger(__name__)

INPUT_SIZE = 224
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

ProgressFn = Callable[[float, str], None]


class ModelError(Explained, RuntimeError):
    """A model that cannot be offered: unknown name, or weights that cannot be had."""


@dataclass(frozen=True)
class WeightsStatus:
    pretrained: bool
    reason: str | None = None  # why the weights are untrained, when they are
    seed: int | None = None
    content: str | None = None  # "sha256-…" of the checkpoint file the weights were read from
    # The reason as a template of the catalog and its values, so a page says it in the reader's language.
    reason_template: str | None = None
    reason_values: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        return "pretrained" if self.pretrained else "untrained"

    @property
    def tag(self) -> str:
        """Short identity of the weights, part of every cache key: results from
        random weights must never be served as results from real ones, nor
        results from a replaced checkpoint as results from the old one."""
        if not self.pretrained:
            return f"random{self.seed}"
        return self.content or "pretrained"

    def as_dict(self) -> dict[str, object]:
        return {"status": self.label, "pretrained": self.pretrained, "reason": self.reason, "tag": self.tag}


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
    position: int = 0  # forward-order position in the traced graph

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "out_channels": self.out_channels,
            "in_channels": self.in_channels,
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "map_size": list(self.map_size),
            "sees_image": self.sees_image,
            **field_summary(self.receptive_field),
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
    mean: tuple[float, float, float] = IMAGENET_MEAN  # per-channel normalization the weights were trained with
    std: tuple[float, float, float] = IMAGENET_STD
    source: str = "torchvision"  # or "team file": a checkpoint named in DASHAPP_MODELS_FILE
    blocks: dict[str, BlockInfo] = field(default_factory=dict)
    # One forward pass at a time per model: hooks are registered per call, and
    # a concurrent pass would fire another request's hooks.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def trained_on(self) -> str:
        """Where the weights come from, as every export says it: "random",
        "ImageNet" (torchvision's) or "team checkpoint"."""
        if not self.weights.pretrained:
            return "random"
        return "ImageNet" if self.source == "torchvision" else "team checkpoint"

    def layer(self, name: str) -> LayerInfo:
        try:
            return self.layers[name]
        except KeyError:
            raise ModelError(N_("{model} has no conv layer named {layer!r}"), model=self.name, layer=name) from None

    def evidence_layers(self) -> list[EvidenceLayer]:
        """Where class evidence can be computed: every conv and every block, in forward order."""
        convs = [EvidenceLayer(i.name, "conv", i.map_size, i.receptive_field, i.position) for i in self.layers.values()]
        blocks = [EvidenceLayer(b.name, "block", b.map_size, b.receptive_field, b.position)
                  for b in self.blocks.values()]
        return order_evidence_layers(convs + blocks)

    def evidence_layer(self, name: str) -> EvidenceLayer:
        for layer in self.evidence_layers():
            if layer.name == name:
                return layer
        raise ModelError(N_("{model} has no conv layer or block named {layer!r}"), model=self.name, layer=name)

    @property
    def default_evidence_layer(self) -> str:
        return default_evidence_layer(self.evidence_layers())


def describe(
    name: str,
    module: nn.Module,
    categories: list[str],
    weights: WeightsStatus,
    device: torch.device,
    input_size: int = INPUT_SIZE,
    **extra: Any,
) -> LoadedModel:
    """Wrap any conv classifier (torchvision's or a hand-built test model);
    ``extra``: the other ``LoadedModel`` fields (mean, std, source)."""
    module.eval().requires_grad_(False).to(device)
    graph = describe_graph(module)
    topology = graph.convs
    modules = dict(module.named_modules())
    # One dry run sizes every conv's map and every block's output.
    shapes = output_shapes(module, [*topology, *block_names(module)], input_size)
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
            map_size=shapes[layer_name][1:],
            sees_image=topo.sees_image and conv.in_channels == 3,
            receptive_field=topo.receptive_field,
            norm=topo.norm,
            activation=topo.activation,
            position=graph.module_outputs[layer_name][0],
        )
    blocks = describe_blocks(module, graph, shapes)
    return LoadedModel(name, module, layers, categories, weights, device, input_size, blocks=blocks, **extra)


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
    return weights.checkpoint_file(name)


def _load_pretrained(name: str, module: nn.Module, progress: ProgressFn | None) -> str:
    enum = torchvision.models.get_model_weights(name).DEFAULT
    try:
        target = weights.wait_for(name, progress)
    except weights.DownloadError as exc:
        log.warning("weights for %s: %s", name, exc.detail)
        # Every DownloadError means "cannot be had": say it in the template the reader's language has.
        raise ModelError(weights.UNAVAILABLE, model=name, file=weights.checkpoint_file(name).name) from exc
    try:
        # torchvision's normal loading path: it finds the file in the hub cache.
        state = enum.get_state_dict(progress=False)
        module.load_state_dict(state)
    except Exception as exc:
        log.warning("weights for %s in %s could not be loaded: %s", name, target, exc)
        raise ModelError(N_("The ImageNet weights file {file} for {model} could not be loaded (the server log has the "
                            "details). Replace the file, or set DASHAPP_WEIGHTS=random."), file=target.name,
                         model=name) from exc
    return content_tag(target)


def _shared(module: nn.Module, name: str, tag: str, device: torch.device, shared_dir: Path | None) -> None:
    """Map the weights from one file every worker shares (shared_weights.py),
    for a model that runs on the CPU; the key names the values."""
    if shared_dir is not None and device.type == "cpu":
        key = f"{name}-{tag}-torch{torch.__version__}-torchvision{torchvision.__version__}"
        shared_weights.share(module, shared_dir, re.sub(r"[^A-Za-z0-9_.+-]", "_", key))


def build_torchvision_model(
    name: str,
    policy: str,
    seed: int,
    device: torch.device,
    progress: ProgressFn | None = None,
    shared_dir: Path | None = None,
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
    status = WeightsStatus(pretrained=False, reason="DASHAPP_WEIGHTS=random", seed=seed,
                           reason_template=N_("the server is set to random weights (DASHAPP_WEIGHTS=random)"))
    if policy in ("auto", "pretrained"):
        try:
            status = WeightsStatus(pretrained=True, content=_load_pretrained(name, module, progress))
        except ModelError as exc:
            if policy == "pretrained":
                raise
            log.warning("%s: falling back to seeded random weights", name)
            status = WeightsStatus(pretrained=False, reason=str(exc), seed=seed, reason_template=exc.template,
                                   reason_values=tuple((key, str(value)) for key, value in exc.params.items()))
    _shared(module, name, status.tag, device, shared_dir)
    if progress:
        progress(1.0, f"{name} ready")
    return describe(name, module, categories, status, device)


def build_team_model(spec: TeamModelSpec, device: torch.device, shared_dir: Path | None = None) -> LoadedModel:
    """A team's checkpoint on its torchvision architecture (always its own
    weights: the weights policy is about torchvision's ImageNet files)."""
    try:
        module, categories, tag = load_team_model(spec)
    except CheckpointError as exc:
        raise ModelError(str(exc)) from exc
    status = WeightsStatus(pretrained=True, content=tag)
    _shared(module, spec.name, status.tag, device, shared_dir)
    return describe(spec.name, module, categories, status, device, spec.input_size, mean=spec.mean, std=spec.std,
                    source="team file")


class ModelRegistry:
    """Loads each enabled model once per process; safe to share between threads.

    Team models (``team``) are loaded here, at start, so a checkpoint that does
    not fit its architecture or class names stops the app with the reason.
    """

    def __init__(self, names: tuple[str, ...], policy: str, seed: int = 0, device: str | None = None,
                 mirror: str | None = None, team: tuple[TeamModelSpec, ...] = (),
                 shared_dir: Path | None = None) -> None:
        unknown = [name for name in names if name not in available_models()]
        if unknown:
            raise ModelError(f"Unknown model(s) in DASHAPP_MODELS: {', '.join(unknown)}")
        clashing = [spec.name for spec in team if spec.name in names]
        if clashing:
            raise ModelError(f"Model name(s) {', '.join(clashing)} are in both DASHAPP_MODELS and the models file; "
                             "give the team's models their own names.")
        self.team = {spec.name: spec for spec in team}
        names = (*names, *self.team)
        self.names = names
        self.policy = policy
        self.mirror = mirror
        self.seed = seed
        self.device = resolve_device(device)
        self.shared_dir = shared_dir  # where the workers' shared weight files go (None: not shared)
        self._models: dict[str, LoadedModel] = {}
        self._locks = {name: threading.Lock() for name in names}
        self._bare: dict[str, LoadedModel] = {}  # described from the architecture alone, before weights
        for spec in team:
            self._models[spec.name] = build_team_model(spec, self.device, shared_dir)

    def is_loaded(self, name: str) -> bool:
        return name in self._models

    def loaded(self, name: str) -> LoadedModel | None:
        """The model if this process has loaded it already, without loading it."""
        return self._models.get(name)

    def get(self, name: str, progress: ProgressFn | None = None) -> LoadedModel:
        if name not in self._locks:
            raise ModelError(N_("Unknown model {name!r}; available: {choices}"), name=name,
                             choices=", ".join(self.names))
        loaded = self._models.get(name)
        if loaded is not None:
            return loaded
        with self._locks[name]:
            loaded = self._models.get(name)
            if loaded is None:  # team models are loaded at start
                loaded = build_torchvision_model(name, self.policy, self.seed, self.device, progress, self.shared_dir)
                self._models[name] = loaded
        return loaded

    @property
    def wants_pretrained(self) -> bool:
        return self.policy in ("auto", "pretrained")

    @property
    def downloadable(self) -> tuple[str, ...]:
        """Enabled torchvision models whose ImageNet weights the policy wants
        (team models bring their own checkpoint)."""
        return tuple(n for n in self.names if n not in self.team) if self.wants_pretrained else ()

    def start_downloads(self) -> list[str]:
        """Start background downloads of the enabled models' missing weights
        (the app factory calls this once; requests never do)."""
        return weights.start_downloads(self.downloadable, self.mirror)

    def fetch_weights(self, progress: ProgressFn | None = None) -> dict[str, Path]:
        """Download every enabled model's missing weights now (the operator's
        ``python -m dashapp fetch-weights``); raises ModelError on a failure."""
        fetched = {}
        for name in self.downloadable:
            try:
                fetched[name] = weights.download(name, self.mirror, progress, retry_failed=True)
            except weights.DownloadError as exc:
                raise ModelError(f"{exc} ({exc.detail})") from exc
        return fetched

    def download_progress(self, name: str) -> weights.Progress:
        """How the server's own download of ``name``'s weights is going;
        never starts one."""
        return weights.poll(name)

    def needs_download(self, name: str) -> bool:
        """Whether getting ``name`` would first wait for its weights to arrive:
        only an enabled model, only under a policy that wants pretrained weights."""
        return name in self.downloadable and name not in self._models and not weights_file(name).exists()

    def _described(self, name: str) -> LoadedModel:
        """The loaded model, or (while its weights would have to be downloaded
        first) the bare architecture described once: layers, sizes, fields and
        blocks do not depend on the weights."""
        if name in self._models or not self.needs_download(name):
            return self.get(name)
        with self._locks[name]:
            bare = self._bare.get(name)
            if bare is None:
                module = torchvision.models.get_model(name, weights=None)
                bare = describe(name, module, [], WeightsStatus(False), torch.device("cpu"))
                self._bare[name] = bare
        return bare

    def layers(self, name: str) -> dict[str, LayerInfo]:
        """The conv layer table without waiting for weights."""
        return self._described(name).layers

    def evidence_layers(self, name: str) -> list[EvidenceLayer]:
        """Convs and blocks class evidence can be computed at, without waiting for weights."""
        return self._described(name).evidence_layers()
