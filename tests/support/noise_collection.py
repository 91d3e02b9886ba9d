"""Collections of small random PNGs, stored through a scanner's own stores
(the Celery scan tests: what matters is that every worker reads the same images)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

from dashapp.collections import CollectionLimits, build_collection, from_files


def png(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def make_collection(scanner: Any, count: int, offset: int = 0) -> Any:
    """``count`` noise images in two labelled folders, stored as a collection."""
    files = [(f"{'xy'[i % 2]}/{i}.png", png(offset + i)) for i in range(count)]
    return scanner.collections.put(build_collection("celery", from_files(files, CollectionLimits()), scanner.images))
