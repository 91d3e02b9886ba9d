"""The image patches that excite a filter most: receptive-field crops around
its strongest distinct peaks."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from dashapp.analysis.maps.geometry import MapGeometry, map_geometry
from dashapp.analysis.models.graph import ReceptiveField


@dataclass(frozen=True)
class Patch:
    number: int
    row: int  # map cell of the peak
    col: int
    value: float
    x0: int  # receptive field in original image pixels, clipped to the image
    y0: int
    x1: int
    y1: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def receptive_box(
    rf: ReceptiveField, row: int, col: int, input_size: int, image_width: int, image_height: int
) -> tuple[int, int, int, int]:
    """A map cell's receptive field in original image pixels, clipped to the image (``geometry.py``)."""
    return map_geometry(rf, input_size, image_width, image_height).pixel_box(row, col, image_width, image_height)


def top_patches(
    fmap: np.ndarray,
    rf: ReceptiveField,
    input_size: int,
    image_width: int,
    image_height: int,
    count: int = 3,
    threshold: float = 0.0,
) -> list[Patch]:
    """Up to ``count`` distinct peaks above ``threshold``: the regions'
    threshold, so patches, boxes and text agree on what "responds" means.
    Each patch is its cell's receptive field placed by the one geometry
    rule (``geometry.map_geometry``)."""
    geometry = map_geometry(rf, input_size, image_width, image_height)
    height, width = fmap.shape
    # Near-duplicate suppression in map cells: peaks closer than half a
    # receptive field are the same feature. Capped at a quarter of the map,
    # since deep layers' fields cover the whole image.
    half_field = min(geometry.rf_width / geometry.dx, geometry.rf_height / geometry.dy) / 2
    radius = max(1.0, min(half_field, max(height, width) / 4))
    order = np.argsort(-fmap, axis=None, kind="stable")
    chosen: list[tuple[int, int, float]] = []
    for flat in order:
        value = float(fmap.flat[flat])
        if value <= 0 or value < threshold or len(chosen) == count:
            break
        row, col = divmod(int(flat), width)
        if all((row - r) ** 2 + (col - c) ** 2 >= radius**2 for r, c, _ in chosen):
            chosen.append((row, col, value))
    patches = []
    for number, (row, col, value) in enumerate(chosen, start=1):
        x0, y0, x1, y1 = geometry.pixel_box(row, col, image_width, image_height)
        patches.append(Patch(number, row, col, value, x0, y0, x1, y1))
    return patches


def crop_box(fmap: np.ndarray, geometry: MapGeometry, box: tuple[int, int, int, int], image_width: int,
             image_height: int) -> tuple[int, int, int, int]:
    """What to crop for a region ``box`` (x0, y0, x1, y1 exclusive): the box,
    grown to at least the receptive field of its peak cell (the largest cell
    whose centre lies in the box, or the cell nearest the box's centre), so a
    sliver of a region is shown with what its filter sees, not as a few
    blurred pixels."""
    rows, cols = fmap.shape
    x0, y0, x1, y1 = box
    centres_x = geometry.x0 + np.arange(cols) * geometry.dx
    centres_y = geometry.y0 + np.arange(rows) * geometry.dy
    inside = np.outer((centres_y >= y0) & (centres_y < y1), (centres_x >= x0) & (centres_x < x1))
    if inside.any():
        row, col = divmod(int(np.argmax(np.where(inside, fmap, -np.inf))), cols)
    else:
        row, col = geometry.cell_at((x0 + x1) / 2, (y0 + y1) / 2, rows, cols)
    fx0, fy0, fx1, fy1 = geometry.pixel_box(row, col, image_width, image_height)
    return min(x0, fx0), min(y0, fy0), max(x1, fx1), max(y1, fy1)
