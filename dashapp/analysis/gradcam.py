"""Class evidence: Grad-CAM and Grad-CAM++ for any conv layer and class.

Grad-CAM (Selvaraju et al., 2017) weighs the layer's maps by the mean
gradient of the class score; Grad-CAM++ (Chattopadhay et al., 2018) weighs
positive gradients by second- and third-order terms, which separates several
instances of a class better. Both are taken at the same point the response is
(the BatchNorm output where one follows the conv, else the conv output).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from PIL import Image
from torch import nn

from .capture import model_input
from .graph import TRACING
from .models import LoadedModel

METHODS = ("gradcam", "gradcam++")


def _source_module(loaded: LoadedModel, layer: str) -> nn.Module:
    info = loaded.layer(layer)
    modules = dict(loaded.module.named_modules())
    return modules[info.norm] if info.norm else modules[layer]


def class_evidence(loaded: LoadedModel, image: Image.Image, layer: str, class_index: int,
                   method: str = "gradcam") -> np.ndarray:
    """(H, W) non-negative evidence map for ``class_index`` at ``layer``."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if not 0 <= class_index < len(loaded.categories):
        raise ValueError(f"class {class_index} is outside 0–{len(loaded.categories) - 1}")
    kept: dict[str, torch.Tensor] = {}

    def hook(_module: nn.Module, _inputs: object, output: torch.Tensor) -> torch.Tensor:
        kept["activation"] = output
        # The network goes on with a copy: in-place ops downstream (ReLU,
        # a residual +=) then cannot rewrite the tensor we differentiate by.
        return output.clone()

    batch = model_input(loaded, image)
    with TRACING.shared(), loaded.lock, torch.enable_grad():
        handle = _source_module(loaded, layer).register_forward_hook(hook)
        try:
            batch.requires_grad_(True)  # parameters are frozen; the graph starts at the input
            logits = loaded.module(batch)
        finally:
            handle.remove()
        activation = kept["activation"]
        (gradient,) = torch.autograd.grad(logits[0, class_index], activation)
    # The maps weighed are the responses (rectified, as everywhere in the app);
    # Grad-CAM++'s closed-form weights also assume non-negative maps.
    a = torch.relu(activation.detach()[0].float())
    g = gradient.detach()[0].float()
    if method == "gradcam":
        weights = g.mean(dim=(1, 2))
    else:
        g2, g3 = g.pow(2), g.pow(3)
        denominator = 2 * g2 + a.sum(dim=(1, 2), keepdim=True) * g3
        alpha = g2 / torch.where(denominator != 0, denominator, torch.ones_like(denominator))
        weights = (alpha * torch.relu(g)).sum(dim=(1, 2))
    cam = torch.relu((weights[:, None, None] * a).sum(dim=0))
    return cam.cpu().numpy().astype(np.float32)


@contextmanager
def randomized_above(loaded: LoadedModel, layer: str, seed: int = 1234) -> Iterator[None]:
    """Re-initialize every parameterized module after ``layer`` in forward
    order (the cascading model-randomization test of Adebayo et al., 2018),
    restoring the weights afterwards."""
    names = [name for name, _ in loaded.module.named_modules()]
    start = names.index(layer)
    saved = {k: v.clone() for k, v in loaded.module.state_dict().items()}
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            for name, module in loaded.module.named_modules():
                if names.index(name) > start and hasattr(module, "reset_parameters") and not list(module.children()):
                    module.reset_parameters()
        yield
    finally:
        loaded.module.load_state_dict(saved)
