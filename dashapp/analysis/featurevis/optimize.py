"""Feature visualization: the image a filter wants to see, found by optimization.

Olah et al., "Feature Visualization" (Distill, 2017), as implemented in Lucid
and its PyTorch port Lucent: the image is parameterized in Fourier space with
a 1/f spectrum scale and decorrelated colour (the square root of ImageNet's
colour correlation), squashed to [0, 1] by a sigmoid, normalized as the model
expects, and moved by Adam to maximize the filter's response under random
padding, jitter, scale and rotation (transformation robustness) at each step.

The response is the app's: ``relu(act(bn(conv(x))))`` read where capture.py
reads it. The optimization runs on a private deep copy of the network, made
once per model and cached: hooks on the shared module would fire inside other
requests' passes, and holding the model's lock for the tens of seconds an
optimization takes would stall every other analysis of that model.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Protocol

import numpy as np
import torch

from dashapp.analysis.featurevis.imageparam import FourierImage, Robustness, normalize, to_uint8
from dashapp.analysis.messages import N_, Explained
from dashapp.analysis.models.private_model import REDIRECT_STEPS, LayerTap, PrivateModel, private_model
from dashapp.analysis.models.registry import IMAGENET_MEAN, IMAGENET_STD, LayerInfo, LoadedModel

OBJECTIVES = ("channel", "neuron", "diversity")
DIVERSITY_BATCH = 4
# Engine-wide ceilings; the web layer passes its own, lower ones from settings.
MAX_STEPS = 4096
MAX_SIZE = 512
MIN_SIZE = 32
MAX_BATCH = 8

# ProgressFn(step, steps, preview): preview is a uint8 (H, W, 3) image every
# ``preview_every`` steps and None otherwise; returning False cancels the run.
ProgressFn = Callable[[int, int, "np.ndarray | None"], "bool | None"]


class FeatureVisError(Explained, ValueError):
    """Settings or a unit that cannot be visualized (bad input, not a bug)."""


class Cancelled(RuntimeError):
    """The caller cancelled the optimization before it finished."""


class CancelFlag(Protocol):
    """What a run polls between steps (a ``threading.Event`` is one)."""

    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class FeatureVisSettings:
    """Everything that decides the result; part of every cache key.

    Defaults were measured on the 2-core CPU this app is developed on: one
    ResNet18 forward + backward at 160 px takes about 0.09 s on one thread
    (0.18 s at 224 px; ``benchmarks/featurevis.py`` prints the figure), and the
    pass stops at the visualized layer, so 256 steps at 160 px finish in about
    half a minute for a mid-network layer: long enough for Lucid's recipe to
    converge to a stable pattern, short enough to wait for with a progress bar.
    """

    objective: str = "channel"
    steps: int = 256
    size: int = 160
    lr: float = 0.05  # Lucid's and Lucent's Adam learning rate for this parameterization
    seed: int = 0
    transforms: bool = True
    batch: int = 1
    decay_power: float = 1.0
    diversity_weight: float = 1.0  # penalty per unit of mean pairwise Gram similarity
    preview_every: int = 8

    @classmethod
    def for_objective(cls, objective: str, **changes: object) -> FeatureVisSettings:
        """Defaults for ``objective``: the diversity objective optimizes a batch of 4."""
        batch = DIVERSITY_BATCH if objective == "diversity" else 1
        return replace(cls(objective=objective, batch=batch), **changes)  # type: ignore[arg-type]

    def checked(self, max_steps: int = MAX_STEPS, max_size: int = MAX_SIZE) -> FeatureVisSettings:
        """These settings, or a FeatureVisError naming the first value out of range."""
        if self.objective not in OBJECTIVES:
            raise FeatureVisError(N_("unknown objective {objective!r}; choose one of {choices}"),
                                  objective=self.objective, choices=", ".join(OBJECTIVES))
        if not 1 <= self.steps <= max_steps:
            raise FeatureVisError(N_("steps must be between 1 and {high}, not {value}"), high=max_steps,
                                  value=self.steps)
        if not MIN_SIZE <= self.size <= max_size:
            raise FeatureVisError(N_("size must be between {low} and {high} pixels, not {value}"), low=MIN_SIZE,
                                  high=max_size, value=self.size)
        if not (math.isfinite(self.lr) and 0 < self.lr <= 1):
            raise FeatureVisError(N_("lr must be in (0, 1], not {value}"), value=self.lr)
        low_batch = 2 if self.objective == "diversity" else 1
        if not low_batch <= self.batch <= MAX_BATCH:
            raise FeatureVisError(N_("batch must be between {low} and {high} for {objective}"), low=low_batch,
                                  high=MAX_BATCH, objective=self.objective)
        if not (math.isfinite(self.diversity_weight) and self.diversity_weight >= 0):
            raise FeatureVisError(N_("diversity_weight must be a finite number ≥ 0"))
        if not (math.isfinite(self.decay_power) and 0 <= self.decay_power <= 2):
            raise FeatureVisError(N_("decay_power must be between 0 and 2"))
        if self.preview_every < 1:
            raise FeatureVisError(N_("preview_every must be at least 1"))
        return self

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def key(self) -> str:
        """Stable text of the settings that change the image (not the preview rate)."""
        values = self.as_dict()
        values.pop("preview_every")
        return ",".join(f"{name}={values[name]}" for name in sorted(values))


@dataclass
class FeatureVisResult:
    images: np.ndarray  # uint8 (batch, size, size, 3)
    objective_value: float  # the objective's response on the final image(s), no transforms
    mean_response: float  # the filter's mean response on the final image(s), no transforms
    history: list[float] = field(repr=False)  # the objective at each step (under transforms)
    settings: FeatureVisSettings = field(default_factory=FeatureVisSettings)
    seconds: float = 0.0

    @property
    def image(self) -> np.ndarray:
        """One picture: the image, or the batch tiled two per row."""
        return mosaic(self.images)


def mosaic(images: np.ndarray, gap: int = 4) -> np.ndarray:
    """Tile (B, H, W, 3) images two per row on a white background."""
    if len(images) == 1:
        return images[0]
    count, height, width, _ = images.shape
    columns = 2
    rows = math.ceil(count / columns)
    sheet = np.full((rows * height + (rows - 1) * gap, columns * width + (columns - 1) * gap, 3), 255, np.uint8)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top, left = row * (height + gap), column * (width + gap)
        sheet[top : top + height, left : left + width] = image
    return sheet


# --- objectives -------------------------------------------------------------


def unit_response(response: torch.Tensor, filter_index: int, objective: str) -> torch.Tensor:
    """(B,) response of each image: the filter's mean over the map, or for
    "neuron" its value at the centre cell (Lucent's neuron objective)."""
    unit = response[:, filter_index]
    if objective == "neuron":
        height, width = unit.shape[-2:]
        return unit[:, height // 2, width // 2]
    return unit.mean(dim=(1, 2))


def gram_similarity(response: torch.Tensor) -> torch.Tensor:
    """Lucid's diversity term, as a penalty: the Gram matrix of each image's
    layer response (channels × channels), normalized to unit Frobenius norm,
    and the cosine similarities of every ordered pair summed over the batch
    and divided by the batch size."""
    batch, channels = response.shape[:2]
    flat = response.reshape(batch, channels, -1)
    grams = flat @ flat.transpose(1, 2)
    grams = grams / grams.flatten(1).norm(dim=1).clamp(min=1e-12)[:, None, None]
    products = torch.einsum("icd,jcd->ij", grams, grams)
    return (products.sum() - products.diagonal().sum()) / batch


def loss_of(response: torch.Tensor, filter_index: int, settings: FeatureVisSettings) -> tuple[torch.Tensor, float]:
    """The loss Adam minimizes, and the objective's value (mean over the batch)."""
    value = unit_response(response, filter_index, settings.objective).mean()
    loss = -value
    if settings.objective == "diversity":
        # Scaled by the response's own size (a constant for the gradient), so
        # one weight suits layers whose responses differ by orders of magnitude.
        loss = loss + settings.diversity_weight * value.detach().abs().clamp(min=1e-3) * gram_similarity(response)
    return loss, float(value.detach())


# --- the optimization -------------------------------------------------------


def check_unit(loaded: LoadedModel, layer: str, filter_index: int) -> LayerInfo:
    """The layer's description, or a FeatureVisError naming what does not exist."""
    if layer not in loaded.layers:
        raise FeatureVisError(N_("{model} has no conv layer named {layer!r}"), model=loaded.name, layer=layer)
    info = loaded.layers[layer]
    if not 0 <= filter_index < info.out_channels:
        raise FeatureVisError(N_("{layer} has filters 0–{last}, not {index}"), layer=layer, last=info.out_channels - 1,
                              index=filter_index)
    return info


def evaluate(loaded: LoadedModel, layer: str, filter_index: int, images: np.ndarray,
             objective: str = "channel") -> tuple[float, float]:
    """(objective value, mean response) of the filter on uint8 (B, H, W, 3)
    images as they are, without transforms; means over the batch."""
    info = check_unit(loaded, layer, filter_index)
    private = private_model(loaded)
    batch = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div(255)
    with private.lock, torch.no_grad():
        response = LayerTap(private, info)(normalize(batch.to(loaded.device), loaded.mean, loaded.std))
    value = unit_response(response, filter_index, objective).mean()
    mean = response[:, filter_index].mean()
    return float(value), float(mean)


class Optimization:
    """One run's state: the image, its transforms, Adam, and the layer tap."""

    def __init__(self, private: PrivateModel, info: LayerInfo, filter_index: int,
                 settings: FeatureVisSettings, device: torch.device,
                 normalization: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None) -> None:
        self.private = private
        self.normalization = normalization or (IMAGENET_MEAN, IMAGENET_STD)  # the model's (mean, std)
        self.filter_index = filter_index
        self.settings = settings
        self.image = FourierImage(settings.batch, settings.size, settings.seed, settings.decay_power, device)
        self.robustness = Robustness(settings.seed)
        self.optimizer = torch.optim.Adam([self.image.spectrum], lr=settings.lr)
        self.tap = LayerTap(private, info)

    def step(self, number: int) -> tuple[float, torch.Tensor]:
        """One Adam step; the objective's value and the image it was measured on."""
        self.optimizer.zero_grad(set_to_none=True)
        self.private.redirect.on = number <= REDIRECT_STEPS
        try:
            rgb = self.image.rgb()
            seen = self.robustness(rgb) if self.settings.transforms else rgb
            loss, value = loss_of(self.tap(normalize(seen, *self.normalization)), self.filter_index, self.settings)
            loss.backward()
        finally:
            self.private.redirect.on = False
        self.optimizer.step()
        return value, rgb.detach()

    def final(self) -> np.ndarray:
        with torch.no_grad():
            return to_uint8(self.image.rgb())


def visualize(
    loaded: LoadedModel,
    layer: str,
    filter_index: int,
    settings: FeatureVisSettings | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFlag | None = None,
    max_steps: int = MAX_STEPS,
    max_size: int = MAX_SIZE,
) -> FeatureVisResult:
    """Optimize an image (a batch, for "diversity") that maximizes the filter's response.

    ``progress`` is called after every step; ``cancel`` (or ``progress``
    returning False) stops the run with ``Cancelled``. Gradients flow only to
    the image: the copy's parameters are frozen, as the registry's are.
    """
    settings = (settings or FeatureVisSettings()).checked(max_steps, max_size)
    info = check_unit(loaded, layer, filter_index)
    private = private_model(loaded)
    start = time.perf_counter()
    history: list[float] = []
    with private.lock, torch.enable_grad():
        run = Optimization(private, info, filter_index, settings, loaded.device, (loaded.mean, loaded.std))
        for step in range(1, settings.steps + 1):
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"cancelled after step {step - 1} of {settings.steps}")
            value, rgb = run.step(step)
            history.append(value)
            if progress is not None:
                due = step % settings.preview_every == 0 or step == settings.steps
                if progress(step, settings.steps, to_uint8(rgb[:1])[0] if due else None) is False:
                    raise Cancelled(f"cancelled after step {step} of {settings.steps}")
        final = run.final()
    objective_value, mean_response = evaluate(loaded, layer, filter_index, final, settings.objective)
    return FeatureVisResult(
        images=final, objective_value=objective_value, mean_response=mean_response, history=history,
        settings=settings, seconds=time.perf_counter() - start,
    )
