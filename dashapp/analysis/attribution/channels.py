"""Which channels of a layer carry a class: gradient × activation and
integrated gradients at the layer (Olah et al. 2018, "The Building Blocks of
Interpretability"; computed as Captum's ``LayerGradientXActivation`` and
``LayerIntegratedGradients`` compute them, which a test holds to 1e-5).

The layer's tensor ``A`` is what the network itself computes there: a
block's output; a conv's response where an activation module follows its
BatchNorm (the ReLU's output); else the BatchNorm (or conv) output the
network goes on with (a ResNet block's ``bn2``, before the residual add).

- **gradxact**: ``attr_c = Σ_ij A_c · ∂logit/∂A_c``, the first-order
  contribution of channel ``c``; its baseline is ``A = 0``, so
  ``Σ attr = logit − logit(A = 0) − residual`` with the residual the
  non-linear rest (0 where the rest of the network is linear in ``A``: at
  ResNet's last block, ``logit_k = Σ_c W[k, c] · mean(A_c) + b_k``).
- **ig**: ``attr_c = Σ_ij (A − A')_c · ∫₀¹ ∂logit/∂A(A' + α (A − A')) dα``
  with ``A'`` the layer's tensor on the baseline image (zeros after
  normalization: the training set's mean colour), Gauss-Legendre at
  ``steps`` points; completeness: ``Σ attr = logit − baseline_logit − residual``.

One forward pass runs the network up to the layer once, and the hook hands
the rest of the network every row it needs at once ([A, 0] or [A, A', the
interpolations]). What does not depend on the image (``A'``, and the
baseline's logits where the rest of the network reads only ``A``) is
computed once per model and layer (``baselines.py``). Where a later op also reads a tensor from before the layer
(a residual add inside the block), the rows cannot share that tensor and the
pass is run again on the image repeated, one row per row; in both cases every
other path holds the image's values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn

from dashapp.analysis.attribution.baselines import Baseline, baseline
from dashapp.analysis.attribution.replay import Recording, recording, replaying
from dashapp.analysis.models.capture import model_input
from dashapp.analysis.models.graph import TRACING
from dashapp.analysis.models.registry import LoadedModel

METHODS = ("gradxact", "ig")
STEPS = 32
IG_BATCH = 8  # interpolations per pass where the rest of the network reads only A

Replace = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class ChannelAttribution:
    layer: str
    class_index: int
    method: str
    logit: float
    baseline_logit: float
    attributions: np.ndarray  # (C,) float64: each channel's attribution, summed over space
    maps: np.ndarray  # (C, H, W) float32: where in the layer's cells it lies

    @property
    def residual(self) -> float:
        """``logit − baseline_logit − Σ attributions``."""
        return self.logit - self.baseline_logit - float(self.attributions.sum())


def layer_module(loaded: LoadedModel, layer: str) -> tuple[nn.Module, nn.Module | None]:
    """(the module whose output is ``A``, the module whose output must be its input, if any)."""
    modules = dict(loaded.module.named_modules())
    if loaded.evidence_layer(layer).kind == "block":
        return modules[layer], None
    info = loaded.layer(layer)
    source = modules[info.norm or layer]
    if info.activation is None:
        return source, None
    return modules[info.activation], source


def _hooks(loaded: LoadedModel, layer: str, replace: Replace) -> list[tuple[nn.Module, Callable[..., object]]]:
    """Forward hooks that hand the network ``replace(A)`` in place of ``A``, once."""
    target, source = layer_module(loaded, layer)
    state: dict[str, object] = {}

    def on_target(_m: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> torch.Tensor | None:
        # A ResNet block calls its one ReLU twice: only the call on this conv's BatchNorm output is A.
        if "done" in state or (source is not None and inputs[0] is not state.get("source")):
            return None
        state["done"] = True
        return replace(output)

    hooks: list[tuple[nn.Module, Callable[..., object]]] = [(target, on_target)]
    if source is not None:
        def on_source(_m: nn.Module, _i: object, output: torch.Tensor) -> None:
            state.setdefault("source", output)

        hooks.insert(0, (source, on_source))
    return hooks


def _run(loaded: LoadedModel, batch: torch.Tensor, layer: str, replace: Replace) -> torch.Tensor:
    handles = [module.register_forward_hook(hook) for module, hook in _hooks(loaded, layer, replace)]
    try:
        return loaded.module(batch)
    finally:
        for handle in handles:
            handle.remove()


def _rows_pass(loaded: LoadedModel, batch: torch.Tensor, layer: str, rows: Callable[[torch.Tensor], torch.Tensor],
               count: int) -> torch.Tensor:
    """The network's logits with ``A`` replaced by ``rows(A of the batch)`` (``count`` rows).

    First with the batch as is; if a later op also reads an earlier tensor of
    the batch's size (a residual add), again with each batch row repeated."""
    with TRACING.shared(), loaded.lock, torch.enable_grad():
        try:
            return _run(loaded, batch, layer, lambda a: rows(a[: batch.shape[0]]))
        except RuntimeError:
            if batch.shape[0] == count:
                raise
        repeated = batch[:1].expand(count, *batch.shape[1:]).contiguous()
        return _run(loaded, repeated, layer, lambda a: rows(a[:1]))


def check_request(loaded: LoadedModel, class_index: int, method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if not 0 <= class_index < len(loaded.categories):
        raise ValueError(f"class {class_index} is outside 0–{len(loaded.categories) - 1}")


def _early(loaded: LoadedModel, layer: str) -> bool:
    """Whether ``layer`` (a conv, or a block: its last conv) lies in the first quarter of the network's convs."""
    order = list(loaded.layers)
    inside = [i for i, name in enumerate(order) if name == layer or name.startswith(f"{layer}.")]
    return bool(inside) and inside[-1] < len(order) / 4


def _constant_pass(loaded: LoadedModel, batch: torch.Tensor, layer: str,
                   constant: Replace) -> tuple[torch.Tensor, bool]:
    """The logits with ``A`` replaced by ``constant(A)``, and whether the rest
    of the network reads the image only through ``A``: the batch requires a
    gradient here and the constant none, so the logits require one exactly
    when an op after the layer reads an earlier tensor (``baselines.py``)."""
    source = batch.detach().clone().requires_grad_(True)
    with TRACING.shared(), loaded.lock, torch.enable_grad():
        logits = _run(loaded, source.clone(), layer, lambda a: constant(a).detach())
    return logits.detach(), not logits.requires_grad


def _zero_logits(loaded: LoadedModel, batch: torch.Tensor, layer: str, known: Baseline,
                 record: Recording | None = None) -> torch.Tensor:
    """The logits with ``A = 0``: kept where they are the same for every
    image, else a pass without autograd that replays ``record`` (the first
    pass's network up to the layer, ``replay.py``)."""
    if known.zero_logits is not None:
        return known.zero_logits
    if known.reads_only_a is None:
        logits, known.reads_only_a = _constant_pass(loaded, batch, layer, torch.zeros_like)
        if known.reads_only_a:
            known.zero_logits = logits
        return logits
    with TRACING.shared(), loaded.lock, torch.inference_mode(), replaying(record):
        return _run(loaded, batch, layer, torch.zeros_like)


def gradient_x_activation(loaded: LoadedModel, batch: torch.Tensor, layer: str, class_index: int) -> ChannelAttribution:
    """``A`` a leaf that keeps its gradient, one backward pass to it (only
    ``∂logit/∂A``: the weights keep no gradient). The baseline ``A = 0``:
    where the rest of the network reads only ``A``, its logits are the same
    for every image and computed once per layer (``baselines.py``); else, in
    the first quarter of the network, a pass of its own without autograd
    that reuses the first pass's network up to the layer (cheaper than
    taking a zero row through the whole backward); later, a
    second row of the same pass (the rest of the network is cheap and two
    rows share its work). docs/performance.md has the figures."""
    kept: dict[str, torch.Tensor] = {}
    known = baseline(loaded.module, layer)
    record = Recording() if known.reads_only_a is False else None

    def leaf(a: torch.Tensor) -> torch.Tensor:
        if record is not None:
            record.reached = True
        kept["a"] = a.detach().clone().requires_grad_(True)
        return kept["a"].clone()  # not the leaf itself: a block's add may change A in place (its bn2)

    if known.reads_only_a is False and not _early(loaded, layer):
        logits = _rows_pass(loaded, batch, layer, lambda a: torch.cat([leaf(a), torch.zeros_like(a)]), 2)
        (gradient,) = torch.autograd.grad(logits[0, class_index], kept["a"])
    else:
        with TRACING.shared(), loaded.lock, torch.enable_grad(), recording(loaded.module, record):
            logits = _run(loaded, batch, layer, leaf)
        (gradient,) = torch.autograd.grad(logits[0, class_index], kept["a"])  # before the replay reuses tensors
        logits = torch.cat([logits.detach(), _zero_logits(loaded, batch, layer, known, record)])
    maps = (kept["a"].detach() * gradient)[0]
    return _answer(layer, class_index, "gradxact", logits, maps)


def _image_baseline(loaded: LoadedModel, batch: torch.Tensor, layer: str) -> Baseline:
    """``A'`` on the baseline image (zeros), computed once per layer, and its logits where they are kept."""
    known = baseline(loaded.module, layer)
    if known.image_activation is None:
        kept: dict[str, torch.Tensor] = {}

        def keep(a: torch.Tensor) -> torch.Tensor:
            kept["a"] = a.detach().clone()
            return kept["a"]

        logits, reads_only_a = _constant_pass(loaded, torch.zeros_like(batch), layer, keep)
        known.image_logits = logits if reads_only_a else None
        known.reads_only_a, known.image_activation = reads_only_a, kept["a"]
    return known


def integrated_gradients(loaded: LoadedModel, batch: torch.Tensor, layer: str, class_index: int,
                         steps: int = STEPS) -> ChannelAttribution:
    """The interpolations go through the rest of the network in batches of
    ``IG_BATCH`` beside the image's own row (its logit) and, where the
    baseline's logits are not the same for every image, ``A'``'s row, all
    at once; the network before the layer runs once (later batches replay
    it, ``replay.py``). (Not in channels-last order: 5 % faster on CPU, but
    its other rounding leaves Captum's answer beyond 1e-5 at AlexNet.)"""
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    alphas = torch.tensor(0.5 * (1 + nodes), dtype=batch.dtype, device=batch.device)
    step_sizes = torch.tensor(0.5 * weights, dtype=batch.dtype, device=batch.device)
    known = _image_baseline(loaded, batch, layer)
    base, base_logits = known.image_activation, known.image_logits
    assert base is not None
    if base_logits is None:
        return _ig_at_once(loaded, batch, layer, class_index, alphas, step_sizes)
    record = Recording()
    kept: dict[str, torch.Tensor] = {}
    total: torch.Tensor | None = None
    for start in range(0, steps, IG_BATCH):
        part = slice(start, start + IG_BATCH)

        def rows(a: torch.Tensor, part: slice = part, first: bool = start == 0) -> torch.Tensor:
            if "actual" not in kept:
                record.reached = True
                kept["actual"] = a[:1].detach()
                kept["delta"] = kept["actual"] - base
            shape = (-1, *[1] * (kept["actual"].dim() - 1))
            kept["scaled"] = (base + alphas[part].view(shape) * kept["delta"]).requires_grad_(True)
            return torch.cat([kept["actual"], kept["scaled"]]) if first else kept["scaled"]

        own = 1 if start == 0 else 0
        with TRACING.shared(), loaded.lock, torch.enable_grad(), recording(loaded.module, record if own else None), \
                replaying(None if own else record):
            logits = _run(loaded, batch, layer, rows)
        (gradients,) = torch.autograd.grad(logits[own:, class_index].sum(), kept["scaled"])
        weighted = (gradients * step_sizes[part].view(-1, *[1] * (gradients.dim() - 1))).sum(dim=0)
        total = weighted if total is None else total + weighted
        kept["logits"] = logits[:1].detach() if own else kept["logits"]
    assert total is not None
    return _answer(layer, class_index, "ig", torch.cat([kept["logits"], base_logits]), kept["delta"][0] * total)


def _ig_at_once(loaded: LoadedModel, batch: torch.Tensor, layer: str, class_index: int, alphas: torch.Tensor,
                step_sizes: torch.Tensor) -> ChannelAttribution:
    """Every interpolation in one batch, with the image's row and ``A'``'s
    (where a later op reads an earlier tensor: a residual add)."""
    base = baseline(loaded.module, layer).image_activation
    assert base is not None
    steps = alphas.numel()
    kept: dict[str, torch.Tensor] = {}

    def rows(a: torch.Tensor) -> torch.Tensor:
        actual = a[:1].detach()
        shape = (steps, *[1] * (actual.dim() - 1))
        kept["delta"] = actual - base
        kept["scaled"] = (base + alphas.view(shape) * kept["delta"]).requires_grad_(True)
        return torch.cat([actual, base, kept["scaled"]])

    logits = _rows_pass(loaded, batch, layer, rows, steps + 2)
    (gradients,) = torch.autograd.grad(logits[2:, class_index].sum(), kept["scaled"])
    average = (gradients * step_sizes.view(steps, *[1] * (gradients.dim() - 1))).sum(dim=0)
    return _answer(layer, class_index, "ig", logits, kept["delta"][0] * average)


def _answer(layer: str, class_index: int, method: str, logits: torch.Tensor, maps: torch.Tensor) -> ChannelAttribution:
    detached, logits = maps.detach().double(), logits.detach()
    return ChannelAttribution(layer, class_index, method, float(logits[0, class_index]),
                              float(logits[1, class_index]), detached.sum(dim=(1, 2)).cpu().numpy(),
                              detached.float().cpu().numpy())


def channel_attribution(loaded: LoadedModel, image: Image.Image, layer: str, class_index: int,
                        method: str = "gradxact", steps: int = STEPS) -> ChannelAttribution:
    """Every channel of ``layer`` (a conv or a block) for ``class_index`` on ``image``."""
    check_request(loaded, class_index, method)
    batch = model_input(loaded, image)
    if method == "ig":
        return integrated_gradients(loaded, batch, layer, class_index, steps)
    return gradient_x_activation(loaded, batch, layer, class_index)


def pooled_decomposition(loaded: LoadedModel, image: Image.Image, class_index: int) -> tuple[np.ndarray, float, float]:
    """ResNet's head, exactly: (``W[k, c] · mean(a_c)`` per channel, ``b_k``,
    the network's logit), ``a`` the last block's output read by ``avgpool``."""
    module = loaded.module
    fc, pool = getattr(module, "fc", None), getattr(module, "avgpool", None)
    if not isinstance(fc, nn.Linear) or not isinstance(pool, nn.Module):
        raise ValueError(f"{loaded.name} has no global-pool-then-fc head")
    seen: dict[str, torch.Tensor] = {}
    handle = pool.register_forward_pre_hook(lambda _m, args: seen.setdefault("a", args[0].detach().clone()))
    try:
        with TRACING.shared(), loaded.lock, torch.inference_mode():
            logits = module(model_input(loaded, image))
    finally:
        handle.remove()
    means = seen["a"][0].double().mean(dim=(1, 2))
    contributions = (fc.weight[class_index].double() * means).cpu().numpy()
    bias = float(fc.bias[class_index]) if fc.bias is not None else 0.0
    return contributions, bias, float(logits[0, class_index])
