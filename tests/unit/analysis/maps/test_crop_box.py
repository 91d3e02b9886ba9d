"""A region's crop is at least its peak cell's receptive field: a 5×6 px
sliver of a region is not shown as a few blurred pixels."""

from __future__ import annotations

import numpy as np

from dashapp.analysis.maps.geometry import MapGeometry
from dashapp.analysis.maps.patches import crop_box

GEOMETRY = MapGeometry(x0=8.0, dx=16.0, y0=8.0, dy=16.0, rf_width=68.0, rf_height=68.0)
SIDE = 224


def peaked() -> np.ndarray:
    fmap = np.zeros((14, 14), dtype=np.float32)
    fmap[5, 5] = 1.0  # centre (88, 88)
    fmap[5, 6] = 0.5  # centre (104, 88)
    return fmap


def test_a_sliver_grows_to_its_peak_cells_receptive_field() -> None:
    box = crop_box(peaked(), GEOMETRY, (86, 85, 91, 91), SIDE, SIDE)
    assert box == (54, 54, 122, 122)
    assert box[2] - box[0] >= 68 and box[3] - box[1] >= 68


def test_the_peak_cell_is_the_largest_inside_the_box() -> None:
    # The box holds the centres of cells (5, 5) and (5, 6): the larger one's field.
    assert crop_box(peaked(), GEOMETRY, (86, 86, 110, 92), SIDE, SIDE) == (54, 54, 122, 122)
    # Only (5, 6)'s centre inside: its field, grown over the box.
    assert crop_box(peaked(), GEOMETRY, (100, 86, 108, 92), SIDE, SIDE) == (70, 54, 138, 122)


def test_a_box_between_centres_takes_the_nearest_cell() -> None:
    assert crop_box(peaked(), GEOMETRY, (90, 90, 95, 96), SIDE, SIDE) == (54, 54, 122, 122)


def test_a_large_box_is_kept_and_a_field_is_clipped_to_the_image() -> None:
    assert crop_box(peaked(), GEOMETRY, (0, 0, 200, 200), SIDE, SIDE) == (0, 0, 200, 200)
    corner = np.zeros((14, 14), dtype=np.float32)
    corner[0, 0] = 1.0
    assert crop_box(corner, GEOMETRY, (2, 2, 6, 6), SIDE, SIDE) == (0, 0, 42, 42)
