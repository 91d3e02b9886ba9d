"""Test images made on the spot."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def random_png(seed: int, width: int = 96, height: int = 72) -> bytes:
    """A small noise PNG: a new image id for every seed, cheap to upload."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()
