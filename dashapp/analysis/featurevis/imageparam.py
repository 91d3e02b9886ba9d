"""The image being optimized, and the transforms it must survive.

Lucid's parameterization (lucid/optvis/param/spatial.py and color.py, ported
to PyTorch by Lucent): a scaled Fourier spectrum per colour channel in a
decorrelated colour space, turned into RGB in [0, 1] by a sigmoid; and its
standard transformation robustness (lucid/optvis/transform.py) with plain
torch ops, drawn from a seeded generator so a run is reproducible.
"""

from __future__ import annotations

import math
import random

import numpy as np
import torch
import torch.nn.functional as F

from dashapp.analysis.models.registry import IMAGENET_MEAN, IMAGENET_STD

# Lucid's square root of ImageNet's colour correlation matrix (lucid/optvis/
# param/color.py), normalized so its largest column has unit norm.
COLOR_CORRELATION_SVD_SQRT = torch.tensor(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype=torch.float32
)
COLOR_CORRELATION = COLOR_CORRELATION_SVD_SQRT / COLOR_CORRELATION_SVD_SQRT.norm(dim=0).max()

# Lucid's standard transformation robustness (lucid/optvis/transform.py).
PAD = 12
JITTERS = (8, 4)
SCALES = tuple(1 + (i - 5) / 50 for i in range(11))  # 0.90 … 1.10
ANGLES = tuple(range(-10, 11)) + (0,) * 5  # degrees, upright 6 times in 26


def spectrum_scale(height: int, width: int, decay_power: float = 1.0) -> torch.Tensor:
    """1 / |f|^decay_power for the rfft2 layout, |f| floored at one cycle per image:
    equal parameter steps then change every frequency's energy alike, so the
    optimizer is not dominated by pixel-level noise (Lucid's fft_image)."""
    fy = torch.fft.fftfreq(height)[:, None]
    fx = torch.fft.rfftfreq(width)[None, :]
    frequencies = torch.sqrt(fx * fx + fy * fy)
    return 1.0 / frequencies.clamp(min=1.0 / max(height, width)) ** decay_power


class FourierImage:
    """A batch of RGB images held as scaled, colour-decorrelated Fourier spectra."""

    def __init__(self, batch: int, size: int, seed: int, decay_power: float, device: torch.device) -> None:
        generator = torch.Generator().manual_seed(seed)
        shape = (batch, 3, size, size // 2 + 1, 2)  # real and imaginary parts
        self.spectrum = (torch.randn(shape, generator=generator) * 0.01).to(device).requires_grad_(True)
        self.scale = spectrum_scale(size, size, decay_power)[None, None, :, :, None].to(device)
        self.size = size

    def rgb(self) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1]."""
        spectrum = torch.view_as_complex(self.scale * self.spectrum)
        # norm="ortho" and Lucid's damping by 4 keep the start near mid-grey.
        decorrelated = torch.fft.irfftn(spectrum, s=(self.size, self.size), norm="ortho") / 4.0
        colours = COLOR_CORRELATION.to(decorrelated.device)
        rgb = torch.einsum("bchw,dc->bdhw", decorrelated, colours)
        return torch.sigmoid(rgb)


class Robustness:
    """Lucid's standard transforms with torch ops, from a seeded generator:
    pad 12 (grey), jitter 8, scale 0.9–1.1, rotate ±10°, jitter 4."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        images = F.pad(images, [PAD] * 4, mode="constant", value=0.5)
        images = self.jitter(images, JITTERS[0])
        images = self.rescale(images, self.random.choice(SCALES))
        images = self.rotate(images, self.random.choice(ANGLES))
        return self.jitter(images, JITTERS[1])

    def jitter(self, images: torch.Tensor, pixels: int) -> torch.Tensor:
        """A crop ``pixels`` smaller at a random offset (Lucid's jitter)."""
        height, width = images.shape[-2:]
        top, left = self.random.randint(0, pixels), self.random.randint(0, pixels)
        return images[..., top : top + height - pixels, left : left + width - pixels]

    @staticmethod
    def rescale(images: torch.Tensor, factor: float) -> torch.Tensor:
        if factor == 1:
            return images
        return F.interpolate(images, scale_factor=factor, mode="bilinear", align_corners=False)

    @staticmethod
    def rotate(images: torch.Tensor, degrees: float) -> torch.Tensor:
        if degrees == 0:
            return images
        angle = math.radians(degrees)
        matrix = torch.tensor(
            [[math.cos(angle), -math.sin(angle), 0.0], [math.sin(angle), math.cos(angle), 0.0]],
            dtype=images.dtype, device=images.device,
        ).expand(images.shape[0], 2, 3)
        grid = F.affine_grid(matrix, list(images.shape), align_corners=False)
        # "border" repeats the grey pad into the corners a rotation uncovers,
        # where Lucent's kornia warp fills black.
        return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


def normalize(images: torch.Tensor, mean: tuple[float, float, float] = IMAGENET_MEAN,
              std: tuple[float, float, float] = IMAGENET_STD) -> torch.Tensor:
    """[0, 1] RGB -> the model's input, as capture.preprocess normalizes photos
    (with the model's own mean and std: a team model may have its own)."""
    mean_t = torch.tensor(mean, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    std_t = torch.tensor(std, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    return (images - mean_t) / std_t


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) in [0, 1] -> uint8 (B, H, W, 3)."""
    array = images.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8)
    return array.permute(0, 2, 3, 1).cpu().numpy()
