"""A layer's maps and the class logit's gradient with respect to them, flattened.

The maps are the same tensor class evidence weighs (``attribution.gradcam``):
a conv's rectified response (the app's responses, the app's preprocessing)
or a block's output. Each image goes through the network once for all the
requested layers; concept and random images need only the maps, class
images only the gradient (one backward pass for every layer at once).

Memory: ``N x D`` float32 per layer, D = channels x height x width of the
map; callers bound N (``experiment.MAX_IMAGES``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from PIL import Image

from dashapp.analysis.attribution.gradcam import _hooks
from dashapp.analysis.models.capture import preprocess_batch
from dashapp.analysis.models.graph import TRACING
from dashapp.analysis.models.registry import LoadedModel

BATCH = 16
Progress = Callable[[int], None]  # images done in this call


def _pass(loaded: LoadedModel, images: Sequence[Image.Image], layers: Sequence[str],
          class_index: int | None) -> dict[str, np.ndarray]:
    """One forward (and, with ``class_index``, one backward) pass over a batch:
    per layer, (B, D) maps, or the class logit's gradient with respect to them."""
    kept: dict[str, dict[str, torch.Tensor]] = {layer: {} for layer in layers}
    batch = preprocess_batch(loaded, images).to(loaded.device)
    grad = class_index is not None
    with TRACING.shared(), loaded.lock, torch.enable_grad() if grad else torch.inference_mode():
        handles = [module.register_forward_hook(hook)
                   for layer in layers for module, hook in _hooks(loaded, layer, kept[layer])]
        try:
            if grad:
                batch.requires_grad_(True)  # parameters are frozen; the graph starts at the input
            logits = loaded.module(batch)
        finally:
            for handle in handles:
                handle.remove()
        maps = [kept[layer]["maps"] for layer in layers]
        # Images are independent in eval mode: the gradient of the sum is each image's own.
        found = torch.autograd.grad(logits[:, class_index].sum(), maps) if grad else tuple(maps)
    return {layer: tensor.detach().flatten(1).float().cpu().numpy()
            for layer, tensor in zip(layers, found, strict=True)}


def _batched(loaded: LoadedModel, images: Sequence[Image.Image], layers: Sequence[str], class_index: int | None,
             progress: Progress | None, batch_size: int) -> dict[str, np.ndarray]:
    parts: dict[str, list[np.ndarray]] = {layer: [] for layer in layers}
    for start in range(0, len(images), batch_size):
        chunk = images[start:start + batch_size]
        for layer, array in _pass(loaded, chunk, layers, class_index).items():
            parts[layer].append(array)
        if progress is not None:
            progress(start + len(chunk))
    return {layer: np.concatenate(arrays) if arrays else np.zeros((0, 0), np.float32)
            for layer, arrays in parts.items()}


def layer_maps(loaded: LoadedModel, images: Sequence[Image.Image], layers: Sequence[str],
               progress: Progress | None = None, batch_size: int = BATCH) -> dict[str, np.ndarray]:
    """Per layer, (N, D) float32: each image's maps, flattened."""
    return _batched(loaded, images, layers, None, progress, batch_size)


def class_gradients(loaded: LoadedModel, images: Sequence[Image.Image], layers: Sequence[str], class_index: int,
                    progress: Progress | None = None, batch_size: int = BATCH) -> dict[str, np.ndarray]:
    """Per layer, (N, D) float32: the gradient of the logit of ``class_index``
    with respect to the layer's maps, flattened."""
    if not 0 <= class_index < len(loaded.categories):
        raise ValueError(f"class {class_index} is outside 0–{len(loaded.categories) - 1}")
    return _batched(loaded, images, layers, class_index, progress, batch_size)
