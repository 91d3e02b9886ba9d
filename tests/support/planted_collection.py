"""A synthetic collection for the planted model: 40 images, exactly 3 of
them with a red square, labelled "red"; the rest a blue field, "plain"."""

from __future__ import annotations

import numpy as np
from PIL import Image

from dashapp.analysis.scan.scanner import ScanItem
from tests.support.planted import red_square_image

RED_AT = {5: (20, 20, 60, 60), 17: (50, 10, 90, 50), 33: (70, 40, 110, 80)}  # image index -> square (x0, y0, x1, y1)


def image_id(i: int) -> str:
    return f"{i:064x}"


def blue_field(seed: int, width: int = 120, height: int = 90) -> Image.Image:
    """Blue everywhere (the blue filter responds the same on every image), green noise the filters ignore."""
    array = np.zeros((height, width, 3), dtype=np.uint8)
    array[..., 2] = 255
    array[..., 1] = np.random.default_rng(seed).integers(0, 120, (height, width))
    return Image.fromarray(array)


def planted_items() -> list[ScanItem]:
    items = []
    for i in range(40):
        if i in RED_AT:
            items.append(ScanItem(image_id(i), red_square_image(120, 90, RED_AT[i]), "red"))
        else:
            items.append(ScanItem(image_id(i), blue_field(i), "plain"))
    return items
