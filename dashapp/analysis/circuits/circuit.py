"""A filter's circuit on one image: its inputs and outputs, measured.

One forward pass records the tensor the filter's conv reads, its
pre-activation map (the BatchNorm output, else the conv output), and the
same for every conv that reads the filter's channel (``wiring.py``). Then:

- **inputs**: each read channel's contribution to the filter at a cell (the
  peak by default), its whole-map contribution (the sum of its positive
  parts over every cell) and its kernel slice's norm ``‖W[f, c]‖``;
  ``Σ contributions + bias = value`` (``decompose.py``);
- **outputs**: for each filter ``g`` of each reading conv, ``‖W_next[g, f]‖``,
  ``f``'s contribution to ``g`` at ``g``'s own peak and over ``g``'s map;
  and the residual adds where ``f``'s channel is a block's identity path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn

from dashapp.analysis.circuits.decompose import channel_maps, fold, folded_scales, group_channels, reader_maps
from dashapp.analysis.circuits.wiring import Wiring, wiring
from dashapp.analysis.models.capture import model_input
from dashapp.analysis.models.graph import TRACING
from dashapp.analysis.models.registry import LoadedModel

RANKINGS = ("peak", "map", "weight")


@dataclass(frozen=True)
class Link:
    """One neighbour of the filter: an input channel or an output filter."""

    layer: str | None  # the conv a walk goes to (None: the image; the block, for an identity path)
    channel: int
    source: str  # the tensor that carries the link, named by the module producing it
    kind: str  # inputs: "image", "output", "response"; outputs: "conv", "identity"
    contribution: float | None  # at the filter's cell (inputs) or at g's peak (outputs); None: identity
    map_total: float | None  # sum of the positive parts over the map
    weight_norm: float  # ‖W[f, c]‖ or ‖W_next[g, f]‖ (1 for an identity path)
    kernel: np.ndarray  # (kh, kw) float32: the kernel slice

    def score(self, by: str) -> float:
        value = {"peak": self.contribution, "map": self.map_total, "weight": self.weight_norm}[by]
        return -np.inf if value is None else value


@dataclass(frozen=True)
class Circuit:
    layer: str
    filter: int
    cell: tuple[int, int]
    value: float  # Σ contributions + bias, float64
    network_value: float  # the network's own pre-activation at the cell (float32)
    bias: float
    inputs: list[Link]  # in channel order
    outputs: list[Link]  # in layer then filter order

    @property
    def check(self) -> float:
        """|Σ contributions + bias − the network's value|, relative to that value."""
        return abs(self.value - self.network_value) / max(abs(self.network_value), 1e-12)


def ranked(links: list[Link], by: str, k: int) -> list[Link]:
    """Highest first by ``by`` (one of RANKINGS); ``k = 0``: all of them."""
    if by not in RANKINGS:
        raise ValueError(f"unknown ranking {by!r}; choose one of {', '.join(RANKINGS)}")
    order = sorted(links, key=lambda link: -link.score(by))
    return order if k <= 0 else order[:k]


def _modules(loaded: LoadedModel) -> dict[str, nn.Module]:
    return dict(loaded.module.named_modules())


def record(loaded: LoadedModel, batch: torch.Tensor, convs: list[str]) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """One forward pass: each conv's (input, pre-activation output), both (1, C, H, W), first call."""
    modules = _modules(loaded)
    inputs: dict[str, torch.Tensor] = {}
    outputs: dict[str, torch.Tensor] = {}
    handles = []

    def on_input(name: str):
        def hook(_m: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
            inputs.setdefault(name, args[0].detach().clone())
        return hook

    def on_output(name: str):
        def hook(_m: nn.Module, _args: object, output: torch.Tensor) -> None:
            # A clone: an in-place ReLU after the conv (AlexNet) would rewrite it.
            outputs.setdefault(name, output.detach().clone())
        return hook

    with TRACING.shared(), loaded.lock:
        try:
            for name in convs:
                info = loaded.layer(name)
                handles.append(modules[name].register_forward_pre_hook(on_input(name)))
                handles.append(modules[info.norm or name].register_forward_hook(on_output(name)))
            with torch.inference_mode():
                loaded.module(batch)
        finally:
            for handle in handles:
                handle.remove()
    return {name: (inputs[name], outputs[name]) for name in convs}


def _peak(pre: torch.Tensor) -> tuple[int, int]:
    width = pre.shape[-1]
    flat = int(torch.argmax(pre))
    return flat // width, flat % width


def _inputs(loaded: LoadedModel, wires: Wiring, layer: str, index: int, x: torch.Tensor,
            cell: tuple[int, int]) -> tuple[list[Link], float]:
    modules = _modules(loaded)
    conv = modules[layer]
    assert isinstance(conv, nn.Conv2d)
    folded = fold(conv, modules.get(loaded.layer(layer).norm or ""), index)
    maps = channel_maps(conv, x, index) * folded.scale
    at_cell = maps[:, cell[0], cell[1]]
    totals = maps.clamp(min=0).sum(dim=(1, 2))
    kernels = conv.weight[index].detach().float().cpu()
    source = wires.inputs[layer]
    links = [
        Link(source.upstream, c, source.source, source.kind, float(at_cell[i]), float(totals[i]),
             float(kernels[i].norm()), kernels[i].numpy())
        for i, c in enumerate(group_channels(conv, index))
    ]
    return links, folded.bias


def _outputs(loaded: LoadedModel, wires: Wiring, layer: str, index: int,
             seen: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> list[Link]:
    modules = _modules(loaded)
    links = []
    for reader in wires.readers[layer]:
        if reader.kind == "identity":
            links.append(Link(reader.layer, index, reader.source, "identity", None, None, 1.0,
                              np.ones((1, 1), dtype=np.float32)))
            continue
        conv = modules[reader.layer]
        assert isinstance(conv, nn.Conv2d)
        x, pre = seen[reader.layer]
        filters, maps = reader_maps(conv, x, index)
        maps = maps * folded_scales(conv, modules.get(loaded.layer(reader.layer).norm or ""), filters)[:, None, None]
        totals = maps.clamp(min=0).sum(dim=(1, 2))
        local = index - (index // (conv.in_channels // conv.groups)) * (conv.in_channels // conv.groups)
        for i, g in enumerate(filters):
            kernel = conv.weight[g, local].detach().float().cpu()
            if not bool(kernel.any()):
                continue  # a zero kernel slice: g does not read f's channel
            row, col = _peak(pre[0, g])
            links.append(Link(reader.layer, g, reader.source, "conv", float(maps[i, row, col]), float(totals[i]),
                              float(kernel.norm()), kernel.numpy()))
    return links


def circuit(loaded: LoadedModel, image: Image.Image, layer: str, index: int,
            cell: tuple[int, int] | None = None) -> Circuit:
    """Filter ``index`` of conv ``layer`` on ``image``: inputs at ``cell`` (default: its peak) and outputs."""
    info = loaded.layer(layer)
    if not 0 <= index < info.out_channels:
        raise ValueError(f"filter {index} is outside 0–{info.out_channels - 1}")
    wires = wiring(loaded.module)
    readers = [r.layer for r in wires.readers[layer] if r.kind == "conv"]
    seen = record(loaded, model_input(loaded, image), [layer, *readers])
    x, pre = seen[layer]
    height, width = pre.shape[-2:]
    where = cell if cell is not None else _peak(pre[0, index])
    if not (0 <= where[0] < height and 0 <= where[1] < width):
        raise ValueError(f"cell {where} is outside the {height}×{width} map")
    inputs, bias = _inputs(loaded, wires, layer, index, x, where)
    at_cell = [link.contribution for link in inputs if link.contribution is not None]  # every input has one
    value = float(np.sum(at_cell, dtype=np.float64)) + bias
    return Circuit(layer, index, (int(where[0]), int(where[1])), value, float(pre[0, index, where[0], where[1]]),
                   bias, inputs, _outputs(loaded, wires, layer, index, seen))
