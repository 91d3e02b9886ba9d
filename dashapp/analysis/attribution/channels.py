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

One forward pass runs the network up to the layer once (integrated
gradients first run the baseline image once for ``A'``), and the hook hands
the rest of the network every row it needs at once ([A, 0] or [A, A', the
interpolations]). Where a later op also reads a tensor from before the layer
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

from dashapp.analysis.models.capture import model_input
from dashapp.analysis.models.graph import TRACING
from dashapp.analysis.models.registry import LoadedModel

METHODS = ("gradxact", "ig")
STEPS = 32

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


def gradient_x_activation(loaded: LoadedModel, batch: torch.Tensor, layer: str, class_index: int) -> ChannelAttribution:
    """``A`` a leaf that keeps its gradient, one backward pass to it (only
    ``∂logit/∂A``: the weights keep no gradient). The baseline ``A = 0``: in
    the first quarter of the network, a pass of its own without autograd
    (cheaper than taking a zero row through the whole backward: CPU time at
    layer1.0.conv1 3.1x a forward pass became 2.9x, docs/performance.md);
    later, a second row of the same pass (the rest of the network is cheap
    and two rows share its work: at layer2.1, 2.2x against 2.5x apart)."""
    kept: dict[str, torch.Tensor] = {}

    def leaf(a: torch.Tensor) -> torch.Tensor:
        kept["a"] = a.detach().clone().requires_grad_(True)
        return kept["a"]

    if _early(loaded, layer):
        with TRACING.shared(), loaded.lock:
            with torch.enable_grad():
                logits = _run(loaded, batch, layer, leaf)
            with torch.inference_mode():
                zero = _run(loaded, batch, layer, torch.zeros_like)
        logits = torch.cat([logits, zero])
    else:
        logits = _rows_pass(loaded, batch, layer, lambda a: torch.cat([leaf(a), torch.zeros_like(a)]), 2)
    (gradient,) = torch.autograd.grad(logits[0, class_index], kept["a"])
    maps = (kept["a"].detach() * gradient)[0]
    return _answer(layer, class_index, "gradxact", logits, maps)


def integrated_gradients(loaded: LoadedModel, batch: torch.Tensor, layer: str, class_index: int,
                         steps: int = STEPS) -> ChannelAttribution:
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    alphas = torch.tensor(0.5 * (1 + nodes), dtype=batch.dtype, device=batch.device)
    step_sizes = torch.tensor(0.5 * weights, dtype=batch.dtype, device=batch.device)
    baseline = torch.zeros_like(batch)
    kept: dict[str, torch.Tensor] = {}

    def keep(a: torch.Tensor) -> torch.Tensor:
        kept["base"] = a.detach().clone()
        return a

    with TRACING.shared(), loaded.lock, torch.inference_mode():
        _run(loaded, baseline, layer, keep)  # the baseline's A

    def rows(a: torch.Tensor) -> torch.Tensor:
        actual, base = a[:1].detach(), kept["base"]
        shape = (steps, *[1] * (actual.dim() - 1))
        kept["delta"] = actual - base
        kept["scaled"] = (base + alphas.view(shape) * kept["delta"]).clone().requires_grad_(True)
        return torch.cat([actual, base, kept["scaled"]])

    logits = _rows_pass(loaded, batch, layer, rows, steps + 2)
    (gradients,) = torch.autograd.grad(logits[2:, class_index].sum(), kept["scaled"])
    average = (gradients * step_sizes.view(steps, *[1] * (gradients.dim() - 1))).sum(dim=0)
    maps = kept["delta"][0] * average
    return _answer(layer, class_index, "ig", logits, maps)


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
