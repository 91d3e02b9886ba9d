"""RGB pictures of the kernels of layers that see the image directly.

Only a conv whose input is the normalized RGB image has weights that mean
"red", "green" and "blue"; for deeper layers the three first input channels
are arbitrary feature maps, so we say the view does not apply.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from dashapp.analysis.models.registry import LoadedModel


@dataclass(frozen=True)
class KernelPictures:
    applies: bool
    reason: str | None
    # (k, kH, kW, 3) in [0, 1]: 0.5 is a zero weight; one scale for the whole
    # layer, so colours compare across its filters.
    rgb: np.ndarray | None = None
    # (k, 3, kH, kW) in [-1, 1]: each channel's weights on the same scale.
    channels: np.ndarray | None = None
    indices: tuple[int, ...] = ()


def not_applicable_reason(layer: str, in_channels: int) -> str:
    return (
        f"{layer} takes {in_channels} feature maps from earlier layers, not the image's red, green and blue; "
        "its kernels have no colour to show. Choose the first conv layer to see RGB patterns."
    )


def kernel_pictures(loaded: LoadedModel, layer: str, indices: list[int]) -> KernelPictures:
    info = loaded.layer(layer)
    if not info.sees_image:
        return KernelPictures(applies=False, reason=not_applicable_reason(layer, info.in_channels))
    conv = dict(loaded.module.named_modules())[layer]
    assert isinstance(conv, nn.Conv2d)
    weights = conv.weight.detach().float().cpu().numpy()  # (C, 3, kH, kW)
    scale = float(np.abs(weights).max()) or 1.0
    chosen = weights[list(indices)] / scale
    rgb = 0.5 + 0.5 * chosen.transpose(0, 2, 3, 1)
    return KernelPictures(
        applies=True,
        reason=None,
        rgb=np.clip(rgb, 0.0, 1.0),
        channels=np.clip(chosen, -1.0, 1.0),
        indices=tuple(int(i) for i in indices),
    )
