"""Heatmaps told in words: the text a screen reader reads instead of a colour map.

A map is described by what a sighted reader takes from it at a glance: how
strong its peak is, where in the image the peak lies, and how much of the
image stays silent.
"""

from __future__ import annotations

import numpy as np

ROWS = ("upper", "middle", "lower")
COLUMNS = ("left", "centre", "right")


def where(row: int, col: int, rows: int, cols: int) -> str:
    """The ninth of the image that cell (row, col) of a rows × cols map lies
    in, by the cell's centre: "upper left", "centre", "lower right"…"""
    if not (0 <= row < rows and 0 <= col < cols):
        raise ValueError(f"cell ({row}, {col}) is outside a {rows}×{cols} map")
    vertical = ROWS[min(2, int(3 * (row + 0.5) / rows))]
    horizontal = COLUMNS[min(2, int(3 * (col + 0.5) / cols))]
    if vertical == "middle" and horizontal == "centre":
        return "centre"
    if vertical == "middle":
        return f"middle {horizontal}"
    return f"{vertical} {horizontal}"


def describe_map(fmap: np.ndarray, subject: str, quantity: str = "response") -> str:
    """One sentence for a non-negative 2-D map: the peak value and where it
    lies, the share of silent (exactly zero) positions, and, when several
    ninths of the image reach half the peak, that the response is spread.

    ``subject`` names the map ("Filter 38", "Grad-CAM for goldfish").
    """
    values = np.asarray(fmap, dtype=np.float64)
    if values.ndim != 2 or values.size == 0:
        raise ValueError(f"a map must be a non-empty 2-D array, not shape {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError("the map has non-finite values")
    rows, cols = values.shape
    silent = float(np.mean(values == 0))
    peak = float(values.max())
    if peak <= 0:
        return f"{subject}: no {quantity} anywhere on the image."
    row, col = np.unravel_index(int(np.argmax(values)), values.shape)
    strong = np.argwhere(values >= peak / 2)
    areas = {where(int(r), int(c), rows, cols) for r, c in strong}
    spread = f"; at least half the peak in {len(areas)} of 9 areas" if len(areas) > 1 else ""
    return (f"{subject}: peak {quantity} {peak:.3g} in the {where(int(row), int(col), rows, cols)} of the image"
            f"{spread}; silent on {silent:.0%} of it.")
