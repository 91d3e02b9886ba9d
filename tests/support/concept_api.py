"""Collections for concept tests on a real model (ResNet18, seeded random
weights), through the API or straight into the stores."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

from dashapp.collections import CollectionLimits, build_collection, from_files


def striped(seed: int, size: int = 48) -> bytes:
    """Black and white stripes of a random period and phase, a little noise."""
    rng = np.random.default_rng(seed)
    period, phase = int(rng.integers(4, 10)), int(rng.integers(0, 10))
    rows = ((np.arange(size) + phase) // (period // 2)) % 2 * 255
    pixels = np.repeat(np.repeat(rows[:, None, None], size, 1), 3, 2).astype(np.int16)
    pixels += rng.integers(-20, 20, pixels.shape)
    return _png(np.clip(pixels, 0, 255).astype(np.uint8))


def noise(seed: int, size: int = 48) -> bytes:
    return _png(np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8))


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


KINDS = {"striped": striped, "noise": noise}


def files(kind: str, count: int, offset: int = 0) -> list[tuple[str, bytes]]:
    return [(f"{kind}{offset + i}.png", KINDS[kind](offset + i)) for i in range(count)]


def stored(collections: Any, image_store: Any, name: str, kind: str, count: int, offset: int = 0) -> str:
    built = build_collection(name, from_files(files(kind, count, offset), CollectionLimits()), image_store)
    return collections.put(built).id
