"""A stand-in forward pass for the activation store: deterministic maps per
(image, model), with no model and no image."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashapp.analysis.models.capture import Capture, Prediction

SYNTHETIC_LAYERS: dict[str, tuple[int, int, int]] = {"a": (4, 5, 5), "b": (8, 3, 3), "c": (2, 6, 6), "d": (3, 4, 7)}


@dataclass(frozen=True)
class SyntheticWeights:
    tag: str = "t"


@dataclass(frozen=True)
class SyntheticModel:
    name: str = "m"
    weights: SyntheticWeights = SyntheticWeights()


@dataclass(frozen=True)
class SyntheticSubject:
    """A ``store.Subject`` whose "image" is its id: the synthetic pass seeds from it."""

    sha: str
    model: SyntheticModel = SyntheticModel()

    @property
    def image(self) -> str:
        return self.sha


def synthetic_capture(model: SyntheticModel, image: str) -> Capture:
    """Deterministic maps for (image, model), in place of ``analysis.capture``."""
    seed = int(image[:8], 16) ^ sum(model.name.encode())
    rng = np.random.default_rng(seed)
    responses = {name: rng.standard_normal(shape).astype(np.float32) for name, shape in SYNTHETIC_LAYERS.items()}
    return Capture(responses=responses, top=[Prediction(0, "synthetic", 1.0)], weights=None)  # type: ignore[arg-type]
