"""Class evidence: standard Grad-CAM and Grad-CAM++ at a conv or block output.

Grad-CAM (Selvaraju et al., 2017) weighs a layer's maps ``A_k`` by the mean
gradient of the class score *with respect to those maps*:
``w_k = mean_ij dy_c/dA_k[i,j]``, ``cam = relu(sum_k w_k A_k)``.
Grad-CAM++ (Chattopadhay et al., 2018, with the exponential-score closed
form every implementation uses) weighs positive gradients:
``alpha_k[i,j] = g² / (2 g² + sum_ab A_k[a,b] g³)``,
``w_k = sum_ij alpha_k[i,j] relu(g[i,j])``.

Which tensor is ``A`` (and so what the gradient is taken with respect to):

- a **block** (``layer4``, ``layer4.1``): the block's output, as is;
- a **conv**: its rectified response ``r = relu(act(bn(conv(x))))``, the
  same maps the rest of the app shows. Where the network itself computes
  ``r`` (a ReLU module right after the BatchNorm), the gradient is taken at
  that module's output, so it is not zeroed where the response is 0, as a
  gradient taken before the ReLU would be. Where the network goes on with
  something else (a ResNet block's ``bn2`` output feeds the residual add
  before any ReLU; a Hardswish output), the hook hands the network
  ``r + (t - r).detach()``: numerically the tensor ``t`` it computed, but
  autograd sees ``r``, so ``dy/dr`` is the sensitivity of the score to the
  rectified response with the rest held fixed.

Maps are returned normalized to max 1 with the raw maximum as ``scale``
(``Evidence``): raw magnitudes are tiny (AlexNet ``features.0``: ~1e-7) and
float16 storage would flush them to a few distinct values; normalized to 1
they keep float16's 11 significant bits.
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

METHODS = ("gradcam", "gradcam++")


@dataclass(frozen=True)
class Evidence:
    """A class-evidence map: ``raw = map * scale``."""

    map: np.ndarray  # float32 (H, W), max 1 (all zeros when there is no evidence)
    scale: float  # the raw map's maximum (0 when there is no evidence)


def normalize(raw: np.ndarray) -> Evidence:
    top = float(raw.max()) if raw.size else 0.0
    if not np.isfinite(top) or top <= 0:
        return Evidence(np.zeros(raw.shape, dtype=np.float32), 0.0)
    return Evidence((raw / top).astype(np.float32), top)


def cam_from(maps: torch.Tensor, gradient: torch.Tensor, method: str) -> torch.Tensor:
    """The (H, W) map from (K, H, W) maps and the class score's gradient with respect to them."""
    if method == "gradcam":
        weights = gradient.mean(dim=(1, 2))
    else:
        g2, g3 = gradient.pow(2), gradient.pow(3)
        denominator = 2 * g2 + maps.sum(dim=(1, 2), keepdim=True) * g3
        alpha = g2 / torch.where(denominator != 0, denominator, torch.ones_like(denominator))
        weights = (alpha * torch.relu(gradient)).sum(dim=(1, 2))
    return torch.relu((weights[:, None, None] * maps).sum(dim=0))


Hook = Callable[[nn.Module, tuple[torch.Tensor, ...], torch.Tensor], torch.Tensor | None]


def _hooks(loaded: LoadedModel, layer: str, kept: dict[str, torch.Tensor]) -> list[tuple[nn.Module, Hook]]:
    """Forward hooks that put the weighed maps ``A`` in ``kept["maps"]`` (module docstring)."""
    modules = dict(loaded.module.named_modules())
    if loaded.evidence_layer(layer).kind == "block":
        def block_hook(_m: nn.Module, _i: tuple[torch.Tensor, ...], output: torch.Tensor) -> torch.Tensor:
            kept["maps"] = output
            # The network goes on with a copy: in-place ops downstream (a
            # residual +=, an in-place ReLU) cannot rewrite what we differentiate by.
            return output.clone()

        return [(modules[layer], block_hook)]

    info = loaded.layer(layer)
    source = modules[info.norm] if info.norm else modules[layer]

    def rectified(tensor: torch.Tensor) -> torch.Tensor:
        response = torch.relu(tensor)
        kept["maps"] = response
        return response + (tensor - response).detach()

    if info.activation is None:
        return [(source, lambda _m, _i, output: rectified(output))]

    def source_hook(_m: nn.Module, _i: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        kept["source"] = output

    def activation_hook(_m: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> torch.Tensor | None:
        # A ResNet block calls its one ReLU module twice: only the call on
        # this conv's BatchNorm output is the response.
        if "maps" in kept or inputs[0] is not kept.get("source"):
            return None
        return rectified(output)

    return [(source, source_hook), (modules[info.activation], activation_hook)]


def evidence(loaded: LoadedModel, image: Image.Image, layer: str, class_index: int,
             method: str = "gradcam") -> Evidence:
    """Grad-CAM or Grad-CAM++ for ``class_index`` at ``layer`` (a conv or a
    block, ``LoadedModel.evidence_layers``), normalized to max 1."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if not 0 <= class_index < len(loaded.categories):
        raise ValueError(f"class {class_index} is outside 0–{len(loaded.categories) - 1}")
    kept: dict[str, torch.Tensor] = {}
    batch = model_input(loaded, image)
    with TRACING.shared(), loaded.lock, torch.enable_grad():
        handles = [module.register_forward_hook(hook) for module, hook in _hooks(loaded, layer, kept)]
        try:
            batch.requires_grad_(True)  # parameters are frozen; the graph starts at the input
            logits = loaded.module(batch)
        finally:
            for handle in handles:
                handle.remove()
        maps = kept["maps"]
        (gradient,) = torch.autograd.grad(logits[0, class_index], maps)
    cam = cam_from(maps.detach()[0].double(), gradient.detach()[0].double(), method)
    return normalize(cam.cpu().numpy())


def class_evidence(loaded: LoadedModel, image: Image.Image, layer: str, class_index: int,
                   method: str = "gradcam") -> np.ndarray:
    """The (H, W) evidence map normalized to max 1 (``evidence`` also gives its scale)."""
    return evidence(loaded, image, layer, class_index, method).map
