"""One forward pass records every conv layer's response and the prediction.

In the manner of pytorch-grad-cam's ActivationsAndGradients: hooks are
registered for the pass, copy what they see, and are removed again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from dashapp.analysis.models.graph import TRACING
from dashapp.analysis.models.registry import IMAGENET_MEAN, IMAGENET_STD, LoadedModel, WeightsStatus

RGB = tuple[float, float, float]

TOP_K = 5
T = TypeVar("T")


@dataclass(frozen=True)
class Prediction:
    index: int
    label: str
    probability: float

    def as_dict(self) -> dict[str, object]:
        return {"index": self.index, "label": self.label, "probability": self.probability}


@dataclass
class Capture:
    responses: dict[str, np.ndarray]  # layer -> float32 (C, H, W), rectified
    top: list[Prediction]
    weights: WeightsStatus


def preprocess(image: Image.Image, input_size: int, mean: RGB = IMAGENET_MEAN, std: RGB = IMAGENET_STD) -> torch.Tensor:
    """RGB image -> (1, 3, S, S) tensor normalized by the model's ``mean`` and ``std``.

    The whole image is resized to the square input (no crop), so every map
    cell corresponds to a known rectangle of the original image and boxes map
    back to original pixels by a plain scale per axis.
    """
    resized = image.convert("RGB").resize((input_size, input_size), Image.Resampling.BILINEAR)
    array = np.asarray(resized, dtype=np.float32) / 255.0
    normalized = (array - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)
    return torch.from_numpy(normalized.transpose(2, 0, 1).copy()).unsqueeze(0)


def _rectified(output: torch.Tensor, activation: nn.Module | None) -> torch.Tensor:
    """The response (docs/definitions.md) from the hooked norm or conv output,
    always a new tensor: AlexNet's in-place ReLU would otherwise rewrite what
    we keep."""
    source = output.detach()
    if activation is None or type(activation) is nn.ReLU:
        # ReLU after ReLU is ReLU: one out-of-place op, no copy first (a scan
        # runs this on every layer of every batch).
        return F.relu(source)
    # .forward, not __call__: the network's own module must not fire other
    # hooks registered on it for our private copy. An in-place activation
    # gets a copy to work on.
    activated = activation.forward(source.clone() if getattr(activation, "inplace", False) else source)
    # Always rectified (docs/definitions.md): keeps sparsity meaningful after
    # activations with a negative range. ``activated`` is our own tensor.
    return F.relu(activated, inplace=True)


def model_input(loaded: LoadedModel, image: Image.Image) -> torch.Tensor:
    """``image`` as ``loaded`` expects it: its input size, its normalization, its device."""
    return preprocess(image, loaded.input_size, loaded.mean, loaded.std).to(loaded.device)


def _response_hook(store: dict[str, torch.Tensor], layer: str, activation: nn.Module | None):
    def hook(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        store[layer] = _rectified(output, activation)

    return hook


def capture(loaded: LoadedModel, image: Image.Image, layers: list[str] | None = None) -> Capture:
    """Run ``loaded`` once on ``image`` and return every requested layer's response."""
    names = list(loaded.layers) if layers is None else layers
    seen: dict[str, torch.Tensor] = {}
    batch = model_input(loaded, image)
    logits = _run_hooked(loaded, batch, names, lambda name, activation: _response_hook(seen, name, activation))
    probabilities = torch.softmax(logits[0].float(), dim=0).cpu()
    values, indices = probabilities.topk(min(TOP_K, probabilities.numel()))
    top = [
        Prediction(int(i), loaded.categories[int(i)] if int(i) < len(loaded.categories) else str(int(i)), float(v))
        for v, i in zip(values, indices, strict=True)
    ]
    responses = {name: seen[name][0].float().cpu().numpy() for name in names}
    return Capture(responses=responses, top=top, weights=loaded.weights)


def preprocess_batch(loaded: LoadedModel, images: Sequence[Image.Image]) -> torch.Tensor:
    """Images -> (N, 3, S, S) as ``loaded`` expects them: each exactly as
    ``model_input`` prepares one (size, normalization), on the CPU."""
    return torch.cat([preprocess(image, loaded.input_size, loaded.mean, loaded.std) for image in images])


def capture_batch(
    loaded: LoadedModel,
    batch: torch.Tensor,
    reduce: Callable[[str, torch.Tensor], T],
    layers: list[str] | None = None,
) -> dict[str, T]:
    """One forward pass over a preprocessed batch; every layer's (N, C, H, W)
    response (the same definition as ``capture``) is handed to ``reduce`` in
    the hook and only what it returns is kept, so a batch never holds every
    layer's maps at once."""
    names = list(loaded.layers) if layers is None else layers
    reduced: dict[str, T] = {}

    def make_hook(name: str, activation: nn.Module | None):
        def hook(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
            reduced[name] = reduce(name, _rectified(output, activation))

        return hook

    _run_hooked(loaded, batch.to(loaded.device), names, make_hook)
    return reduced


def _run_hooked(loaded: LoadedModel, batch: torch.Tensor, names: list[str],
                make_hook: Callable[[str, nn.Module | None], Callable[..., None]]) -> torch.Tensor:
    """One forward pass with a hook on each layer's response source (its
    BatchNorm, else the conv), given the activation that follows; the hooks
    live only for this pass (as pytorch-grad-cam's ActivationsAndGradients)."""
    modules = dict(loaded.module.named_modules())
    with TRACING.shared(), loaded.lock:
        handles = []
        try:
            for name in names:
                info = loaded.layer(name)
                source = modules[info.norm] if info.norm else modules[name]
                activation = modules[info.activation] if info.activation else None
                handles.append(source.register_forward_hook(make_hook(name, activation)))
            with torch.inference_mode():
                return loaded.module(batch)
        finally:
            for handle in handles:
                handle.remove()


def forward_only(loaded: LoadedModel, image: Image.Image) -> torch.Tensor:
    """A bare forward pass (the benchmark floor)."""
    batch = model_input(loaded, image)
    with TRACING.shared(), loaded.lock, torch.inference_mode():
        return loaded.module(batch)
