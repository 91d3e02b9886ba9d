"""A region's peak is its largest cell value (the map's own numbers), not the
maximum of the resampled grid, which falls between cell centres and reads
lower; interest ranks on it."""

from __future__ import annotations

import numpy as np
import pytest

from dashapp.analysis.maps.geometry import MapGeometry, sample_map
from dashapp.analysis.maps.regions import find_regions

# A 256 px image is worked on a 256 x 256 grid whose pixel centres sit at
# k + 0.5. Cells 10.5 px apart from 0.5: even cells centre on a pixel, odd
# cells fall halfway between two, where the resampled grid reads 4.8 % low
# along each axis.
SIDE = 256
GEOMETRY = MapGeometry(x0=0.5, dx=10.5, y0=0.5, dy=10.5, rf_width=10.5, rf_height=10.5)


def planted() -> np.ndarray:
    fmap = np.zeros((12, 12), dtype=np.float32)
    fmap[1, 1] = 1.0  # the map's peak, between grid pixels
    fmap[8, 8] = 0.95  # a little weaker, on a grid pixel
    return fmap


def test_the_peak_is_the_cells_value_where_the_resampled_grid_reads_lower() -> None:
    fmap = planted()
    dense = sample_map(fmap, GEOMETRY, SIDE, SIDE, SIDE, SIDE)
    assert float(dense[:60, :60].max()) < 0.92  # the precondition: the grid misses the cell's own value
    assert float(dense[60:, 60:].max()) == pytest.approx(0.95)
    regions = find_regions(fmap, SIDE, SIDE, geometry=GEOMETRY).regions
    assert len(regions) == 2
    first, second = regions
    # The region of the map's strongest cell is the most interesting and its peak is that cell's value.
    assert first.peak == 1.0 and first.x0 < 20 and first.y0 < 20
    assert second.peak == pytest.approx(0.95) and second.x0 > 60
    assert first.interest == pytest.approx(1.0 - first.area_fraction)
    assert second.interest == pytest.approx(0.95 * (1.0 - second.area_fraction))


def test_every_peak_is_one_of_the_maps_cell_values() -> None:
    rng = np.random.default_rng(3)
    fmap = np.maximum(rng.normal(size=(9, 9)), 0).astype(np.float32)
    result = find_regions(fmap, 300, 200)
    values = set(fmap.ravel().tolist())
    assert result.regions and all(region.peak in values for region in result.regions)
    assert max(region.peak for region in result.regions) == float(fmap.max())
