"""Model-randomization sanity check (Adebayo et al., 2018, "Sanity Checks for
Saliency Maps"), cascading version, for one image, class, layer and method.

An explanation that reflects what the model learned must change when the
model's weights are destroyed. Starting from the logits, the check
re-initializes the network one unit at a time, top down (ResNet: ``fc``,
``layer4.1``, ``layer4.0``, ... down to the stem; a network without blocks:
one parameterized layer at a time), keeping every earlier randomization
(cascading), and recomputes the map after each step. The chosen layer itself
and its BatchNorm are never randomized (for a block: nothing inside it), so
what changes is the model around the maps being weighed, not the maps'
definition. Everything happens on a private deep copy of the model; the
shared model that other requests use is never touched.

Each step's map is compared with the original map by the Spearman rank
correlation (absolute value, as Adebayo et al. also report it: an inverted
map is still the same picture) and by SSIM (Wang et al., 2004; ``ssim``): the
mean of the SSIM index over every position where the whole window fits inside
the map, as scikit-image's ``structural_similarity`` computes it with
``gaussian_weights=True, use_sample_covariance=False``. The window is Wang et
al.'s 11 x 11 Gaussian of sigma 1.5 where the map is at least 11 cells on its
shorter side; a smaller map gets the largest odd window that fits (side ``w``
<= its shorter side) with sigma = 1.5 (w - 1) / 10, the same shape scaled
down. A map under 3 cells on a side has no SSIM (None).

Verdict: **pass** when ``|rho|`` at the last step is below ``THRESHOLD`` =
0.5. Adebayo et al. find that methods which depend on the model (gradients,
Grad-CAM) fall to rank correlations near 0 once the top layers are
randomized, while the methods they show to fail (Guided Backprop, Guided
Grad-CAM) stay visually and by rank close to the original through the whole
cascade. 0.5 sits halfway between "unrelated" (0) and "the same map" (1):
below it, less than half of the original ranking survives destroying the
model. A constant map (an original with no evidence, or a step where the
evidence vanished) has no rank correlation: the verdict is then
**undecided** and says why; it never passes by default.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from scipy import ndimage
from torch import nn

from dashapp.analysis.attribution.gradcam import evidence
from dashapp.analysis.models.blocks import block_names
from dashapp.analysis.models.graph import describe_graph
from dashapp.analysis.models.registry import LoadedModel

THRESHOLD = 0.5  # |Spearman| at the last step below this passes (module docstring)
SSIM_K1, SSIM_K2, SSIM_SIGMA, SSIM_WINDOW = 0.01, 0.03, 1.5, 11  # Wang et al. 2004's constants and Gaussian window

Explanation = Callable[[LoadedModel], np.ndarray]  # a map from a (possibly randomized) model
Progress = Callable[[int, int], None]  # (steps done, steps in all)


def ssim_window(shape: tuple[int, ...]) -> tuple[int, float] | None:
    """(window side, Gaussian sigma) of ``ssim`` for a map of ``shape``, or
    None when under 3 cells on a side (no window fits)."""
    side = min(SSIM_WINDOW, min(shape) if shape else 0)
    side -= 1 - side % 2  # odd
    if side < 3:
        return None
    return side, SSIM_SIGMA * (side - 1) / (SSIM_WINDOW - 1)


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 1.0) -> float | None:
    """Mean structural similarity of two maps (Wang et al., 2004, eq. 13) over
    the windows that lie wholly inside the map (``ssim_window``; module
    docstring), or None when the map is too small for any window."""
    window = ssim_window(a.shape)
    if window is None:
        return None
    side, sigma = window
    radius = (side - 1) // 2
    x, y = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2

    def blur(z: np.ndarray) -> np.ndarray:  # the weighted mean of each window, kept where the window fits
        full = ndimage.gaussian_filter(z, sigma, truncate=radius / sigma, mode="reflect")
        return full[tuple(slice(radius, n - radius) for n in z.shape)]

    mx, my = blur(x), blur(y)
    vx, vy = blur(x * x) - mx * mx, blur(y * y) - my * my
    cov = blur(x * y) - mx * my
    index = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(index.mean())


def _unit_scale(fmap: np.ndarray) -> np.ndarray:
    top = float(np.abs(fmap).max()) if fmap.size else 0.0
    return fmap / top if top > 0 else np.zeros_like(fmap, dtype=np.float64)


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    """|Spearman rho| of two maps, or None when either is constant (undefined)."""
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    from scipy import stats  # here, not at import: scipy.stats takes seconds to load, which the app's start would wait

    rho = float(stats.spearmanr(a.ravel(), b.ravel())[0])
    return abs(rho) if np.isfinite(rho) else None


def cascade(loaded: LoadedModel, layer: str) -> list[tuple[str, list[str]]]:
    """The randomization steps, top down: (unit name, parameterized modules to re-initialize)."""
    model = loaded.module
    modules: dict[str, nn.Module] = dict(model.named_modules())
    positions = {name: pos for name, (pos, _f) in describe_graph(model).module_outputs.items()}
    blocks = [b for b in block_names(model) if not isinstance(modules[b], nn.Sequential)]
    norm_of: dict[str, str] = {info.norm: name for name, info in loaded.layers.items() if info.norm}
    protected = {layer, loaded.layers[layer].norm} if layer in loaded.layers else set()
    units: dict[str, list[str]] = {}
    for name, module in modules.items():
        if list(module.children()) or not any(True for _ in module.parameters(recurse=False)):
            continue
        if name in protected or name.startswith(f"{layer}."):
            continue  # the layer itself, its BatchNorm, or (a block) anything inside it
        unit = next((b for b in blocks if name.startswith(f"{b}.")), norm_of.get(name, name))
        units.setdefault(unit, []).append(name)
    last = {unit: max(positions.get(m, -1) for m in members) for unit, members in units.items()}
    return [(unit, units[unit]) for unit in sorted(units, key=lambda u: -last[u])]


@dataclass(frozen=True)
class SanityStep:
    randomized: str  # the unit re-initialized at this step (earlier ones stay randomized)
    spearman: float | None  # |rho| against the original map; None: undefined (a constant map)
    ssim: float | None  # None: the map is too small for an SSIM window (``ssim_window``)

    def as_dict(self) -> dict[str, object]:
        return {"randomized": self.randomized, "spearman": self.spearman, "ssim": self.ssim}


# Why the verdict is what it is (``wording/sanity.py`` says it in words).
REASONS = {
    "constant_original": "undecided",  # the original map has no evidence to compare
    "nothing_to_randomize": "undecided",  # no layer above this one
    "vanished": "undecided",  # the last step's map is constant: no rank correlation
    "below_threshold": "passed",
    "above_threshold": "failed",
}


@dataclass(frozen=True)
class SanityResult:
    steps: list[SanityStep]
    verdict: str  # "passed", "failed" or "undecided"
    reason: str  # one of REASONS: why
    threshold: float = THRESHOLD

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"

    def as_dict(self) -> dict[str, object]:
        return {"verdict": self.verdict, "reason": self.reason, "threshold": self.threshold,
                "steps": [s.as_dict() for s in self.steps]}


def verdict(original: np.ndarray, steps: list[SanityStep]) -> tuple[str, str]:
    """(verdict, reason): the rule in the module docstring."""
    if np.ptp(original) == 0:
        reason = "constant_original"
    elif not steps:
        reason = "nothing_to_randomize"
    elif steps[-1].spearman is None:
        reason = "vanished"
    else:
        reason = "below_threshold" if steps[-1].spearman < THRESHOLD else "above_threshold"
    return REASONS[reason], reason


def private_copy(loaded: LoadedModel) -> LoadedModel:
    """A deep copy of the model with its own lock, safe to randomize."""
    with loaded.lock:  # hooks of a concurrent pass are registered under this lock; none are copied
        module = copy.deepcopy(loaded.module)
    for part in module.modules():  # and should one be there anyway, it never fires on the copy
        part._forward_hooks.clear()
        part._forward_pre_hooks.clear()
        part._backward_hooks.clear()
    return dataclasses.replace(loaded, module=module, lock=threading.Lock())


def _reinitialize(modules: dict[str, nn.Module], names: list[str]) -> None:
    for name in names:
        module = modules[name]
        reset = getattr(module, "reset_parameters", None)
        if callable(reset):
            reset()  # the architecture's own initialization (BatchNorm: identity and fresh stats)
        else:
            for param in module.parameters(recurse=False):
                nn.init.normal_(param, std=0.01)


def sanity_check(loaded: LoadedModel, layer: str, explanation: Explanation, seed: int = 1234,
                 progress: Progress | None = None) -> SanityResult:
    """Run the cascade for ``explanation`` at ``layer`` on a private copy of ``loaded``."""
    private = private_copy(loaded)
    original = np.asarray(explanation(private), dtype=np.float64)
    steps_plan = cascade(private, layer)
    modules = dict(private.module.named_modules())
    steps: list[SanityStep] = []
    devices = [private.device.index or 0] if private.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        for done, (unit, names) in enumerate(steps_plan, start=1):
            with torch.no_grad():
                _reinitialize(modules, names)
            current = np.asarray(explanation(private), dtype=np.float64)
            steps.append(SanityStep(unit, rank_correlation(original, current),
                                    ssim(_unit_scale(original), _unit_scale(current))))
            if progress:
                progress(done, len(steps_plan))
    word, reason = verdict(original, steps)
    return SanityResult(steps, word, reason)


def evidence_sanity(loaded: LoadedModel, image: Image.Image, layer: str, class_index: int, method: str = "gradcam",
                    seed: int = 1234, progress: Progress | None = None) -> SanityResult:
    """The check for the app's own class evidence (``gradcam.evidence``)."""
    return sanity_check(loaded, layer, lambda model: evidence(model, image, layer, class_index, method).map,
                        seed=seed, progress=progress)
