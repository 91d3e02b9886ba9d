"""Heatmaps told in words: what a screen reader reads instead of a colour map.

A map is described by what a sighted reader takes from it at a glance: how
strong its peak is, where in the image the peak lies, and how much of the
image stays silent. This module finds those facts; ``wording/maps.py`` says
them in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ROWS = ("upper", "middle", "lower")
COLUMNS = ("left", "centre", "right")
# The nine places, as keys: "upper left" ... "centre" ... "lower right".
PLACES = tuple("centre" if (r, c) == ("middle", "centre") else f"{r} {c}" for r in ROWS for c in COLUMNS)


@dataclass(frozen=True)
class MapFacts:
    """What a glance takes from a non-negative 2-D map."""

    peak: float  # 0 when the map is silent everywhere
    place: str | None  # the ninth (PLACES) holding the peak; None for a silent map
    areas: int  # ninths of the image where the map reaches half its peak
    silent: float  # share of positions exactly zero


def where(row: int, col: int, rows: int, cols: int) -> str:
    """The ninth of the image that cell (row, col) of a rows × cols map lies
    in, by the cell's centre: "upper left", "centre", "lower right"…"""
    if not (0 <= row < rows and 0 <= col < cols):
        raise ValueError(f"cell ({row}, {col}) is outside a {rows}×{cols} map")
    vertical = ROWS[min(2, int(3 * (row + 0.5) / rows))]
    horizontal = COLUMNS[min(2, int(3 * (col + 0.5) / cols))]
    if vertical == "middle" and horizontal == "centre":
        return "centre"
    return f"{vertical} {horizontal}"


def map_facts(fmap: np.ndarray) -> MapFacts:
    """The peak value and where it lies, the share of silent (exactly zero)
    positions, and how many ninths of the image reach half the peak."""
    values = np.asarray(fmap, dtype=np.float64)
    if values.ndim != 2 or values.size == 0:
        raise ValueError(f"a map must be a non-empty 2-D array, not shape {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError("the map has non-finite values")
    rows, cols = values.shape
    silent = float(np.mean(values == 0))
    peak = float(values.max())
    if peak <= 0:
        return MapFacts(peak=0.0, place=None, areas=0, silent=silent)
    row, col = np.unravel_index(int(np.argmax(values)), values.shape)
    # The ninths the strong cells lie in, by ``where``'s rule on whole arrays (a first layer's map
    # has thousands of strong cells).
    strong_rows, strong_cols = np.nonzero(values >= peak / 2)
    vertical = np.minimum(2, (3 * (strong_rows + 0.5) / rows).astype(np.int64))
    horizontal = np.minimum(2, (3 * (strong_cols + 0.5) / cols).astype(np.int64))
    areas = int(np.unique(3 * vertical + horizontal).size)
    return MapFacts(peak=peak, place=where(int(row), int(col), rows, cols), areas=areas, silent=silent)
