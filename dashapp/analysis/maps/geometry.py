"""The one rule for where a map cell lies in the original image.

A cell ``(row, col)`` of a layer's map is centred, in model-input pixels, at
``(start_x + col * jump_x, start_y + row * jump_y)`` (the receptive field,
``graph.py``). The whole image is resized to the square input without
cropping (``capture.preprocess``), so a point maps back to the original image
by a plain scale per axis: ``x * width / input_size``,
``y * height / input_size``. Hence, in original-image pixels (pixel i spans
[i, i + 1]):

    centre_x = x0 + col * dx,   x0 = start_x * width / input_size,  dx = jump_x * width / input_size
    centre_y = y0 + row * dy,   y0 = start_y * height / input_size, dy = jump_y * height / input_size

and the cell looks at a ``rf_width × rf_height`` box around that centre.

Everything that places a map on the image uses this module: the heatmap
trace (``figures.heatmap_figure``: x0/dx/y0/dy), region upsampling
(``regions.find_regions`` via ``sample_map``), patches (``patches.py``), the
map export, and, in the browser, the hover box (``assets/js/dashapp.js``,
``hoverAnswer``), which reads the same numbers from the figure's
``layout.meta.geometry`` and calls ``cell_at`` and ``box`` as written in
JavaScript once, in ``assets/js/geometry.js`` (``tests/browser/test_geometry.py``
holds its answers to this module's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashapp.analysis.models.graph import ReceptiveField


@dataclass(frozen=True)
class MapGeometry:
    """Cell centres and receptive-field size of one layer's map, in original-image pixels."""

    x0: float
    dx: float
    y0: float
    dy: float
    rf_width: float
    rf_height: float

    def centre(self, row: int, col: int) -> tuple[float, float]:
        return self.x0 + col * self.dx, self.y0 + row * self.dy

    def cell_at(self, x: float, y: float, rows: int, cols: int) -> tuple[int, int]:
        """The (row, col) whose centre is nearest to image point (x, y)."""
        col = int(np.clip(round((x - self.x0) / self.dx), 0, cols - 1))
        row = int(np.clip(round((y - self.y0) / self.dy), 0, rows - 1))
        return row, col

    def box(self, row: int, col: int, image_width: int, image_height: int) -> tuple[float, float, float, float]:
        """The cell's receptive field (x0, y0, x1, y1), clipped to the image."""
        cx, cy = self.centre(row, col)
        return (
            max(0.0, cx - self.rf_width / 2),
            max(0.0, cy - self.rf_height / 2),
            min(float(image_width), cx + self.rf_width / 2),
            min(float(image_height), cy + self.rf_height / 2),
        )

    def pixel_box(self, row: int, col: int, image_width: int, image_height: int) -> tuple[int, int, int, int]:
        """``box`` widened to whole pixels (x1, y1 exclusive)."""
        x0, y0, x1, y1 = self.box(row, col, image_width, image_height)
        return int(np.floor(x0)), int(np.floor(y0)), int(np.ceil(x1)), int(np.ceil(y1))

    def as_dict(self) -> dict[str, float]:
        return {"x0": self.x0, "dx": self.dx, "y0": self.y0, "dy": self.dy,
                "rf_width": self.rf_width, "rf_height": self.rf_height}


def map_geometry(rf: ReceptiveField, input_size: int, image_width: int, image_height: int) -> MapGeometry:
    """The geometry of a layer with receptive field ``rf`` over an image of the given size."""
    sx, sy = image_width / input_size, image_height / input_size
    return MapGeometry(
        x0=rf.start_x * sx, dx=rf.jump_x * sx,
        y0=rf.start_y * sy, dy=rf.jump_y * sy,
        rf_width=rf.size_x * sx, rf_height=rf.size_y * sy,
    )


def evenly_spread(rows: int, cols: int, image_width: int, image_height: int) -> MapGeometry:
    """Cells spread evenly over the image, each covering its own tile. Only
    for maps that are the image's own grid (a class-evidence map already
    upsampled to the input, a hand-made test map), never for a layer's map."""
    dx, dy = image_width / cols, image_height / rows
    return MapGeometry(dx / 2, dx, dy / 2, dy, dx, dy)


def _axis_weights(centres_px: np.ndarray, origin: float, step: float, cells: int) -> np.ndarray:
    """(len(centres_px), cells) linear-interpolation weights along one axis.

    Beyond the outermost cell centres the outermost cell's value holds
    (clamped): those pixels are nearest to that cell, and a fall-off to zero
    would invent a response the network never computed.
    """
    position = np.clip((centres_px - origin) / step, 0.0, cells - 1.0)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, cells - 1)
    frac = position - low
    weights = np.zeros((centres_px.size, cells), dtype=np.float64)
    rows = np.arange(centres_px.size)
    np.add.at(weights, (rows, low), 1.0 - frac)
    np.add.at(weights, (rows, high), frac)
    return weights


def sample_map(
    fmap: np.ndarray, geometry: MapGeometry, image_width: int, image_height: int, grid_width: int, grid_height: int
) -> np.ndarray:
    """The map interpolated (bilinearly between cell centres) on a
    ``grid_height × grid_width`` grid laid evenly over the original image.
    Grid pixel k's centre is at ``(k + 0.5) * image_width / grid_width``."""
    rows, cols = fmap.shape
    xs = (np.arange(grid_width) + 0.5) * image_width / grid_width
    ys = (np.arange(grid_height) + 0.5) * image_height / grid_height
    wx = _axis_weights(xs, geometry.x0, geometry.dx, cols)
    wy = _axis_weights(ys, geometry.y0, geometry.dy, rows)
    return (wy @ fmap.astype(np.float64) @ wx.T).astype(np.float32)
