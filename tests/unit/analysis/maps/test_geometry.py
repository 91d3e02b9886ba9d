"""One geometry: a one-hot map lands on the same original-image pixels in the
heatmap figure, the region box, the patch and the hover box (MapGeometry
built from the figure's meta, the numbers the browser reads;
tests/browser/test_geometry.py holds assets/js/geometry.js to MapGeometry)."""

from __future__ import annotations

import numpy as np
import pytest

from dashapp.analysis.maps.geometry import MapGeometry, map_geometry, sample_map
from dashapp.analysis.maps.patches import top_patches
from dashapp.analysis.maps.regions import find_regions
from dashapp.analysis.models.graph import ReceptiveField
from dashapp.analysis.models.registry import ModelRegistry
from dashapp.figures.maps import heatmap_figure

CASES = [("resnet18", "layer4.1.conv2", (3, 2)), ("alexnet", "features.10", (6, 4)),
         ("resnet18", "layer3.1.conv2", (5, 9))]
SIZES = [(224, 224), (250, 180), (160, 240)]  # at most 256 a side: the region grid is the image's pixels


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("model_name", "layer", "cell"), CASES)
def test_one_hot_cell_lands_on_the_same_pixels_everywhere(registry: ModelRegistry, model_name: str, layer: str,
                                                          cell: tuple[int, int], size: tuple[int, int]) -> None:
    loaded = registry.get(model_name)
    info = loaded.layers[layer]
    width, height = size
    row, col = cell
    fmap = np.zeros(info.map_size, dtype=np.float32)
    fmap[row, col] = 1.0
    rf = info.receptive_field
    # The rule itself: start + index * jump in model-input pixels, scaled per axis.
    cx = (rf.start_x + col * rf.jump_x) * width / loaded.input_size
    cy = (rf.start_y + row * rf.jump_y) * height / loaded.input_size
    half_w, half_h = rf.jump_x * width / loaded.input_size / 2, rf.jump_y * height / loaded.input_size / 2

    # Heatmap figure: the cell's brick is centred on (cx, cy), one jump wide.
    fig = heatmap_figure(fmap, None, width, height, rf, loaded.input_size, 0)
    trace = fig.data[0]
    brick_x, brick_y = trace.x0 + col * trace.dx, trace.y0 + row * trace.dy
    assert abs(brick_x - cx) < 1e-9 and abs(brick_y - cy) < 1e-9
    assert trace.dx == pytest.approx(2 * half_w) and trace.dy == pytest.approx(2 * half_h)

    # Region box: the brick's extent, to a pixel.
    geometry = map_geometry(rf, loaded.input_size, width, height)
    (region,) = find_regions(fmap, width, height, geometry=geometry).regions
    for got, want in zip((region.x0, region.y0, region.x1, region.y1),
                         (cx - half_w, cy - half_h, cx + half_w, cy + half_h), strict=True):
        assert abs(got - want) <= 1, (region, cx, cy)

    # Patch and hover box: the same receptive field around the same centre.
    (patch,) = top_patches(fmap, rf, loaded.input_size, width, height, count=1)
    assert (patch.row, patch.col) == (row, col)
    meta = fig.layout.meta
    shown = MapGeometry(**meta["geometry"])
    assert (meta["rows"], meta["cols"], meta["width"], meta["height"]) == (*info.map_size, width, height)
    for x, y in ((cx, cy), (cx + 0.45 * trace.dx, cy - 0.45 * trace.dy)):  # anywhere on the brick
        hover = shown.box(*shown.cell_at(x, y, rows=meta["rows"], cols=meta["cols"]), width, height)
        for got, want in zip((patch.x0, patch.y0, patch.x1, patch.y1), hover, strict=True):
            assert abs(got - want) <= 1, (patch, hover)
    unclipped = (cx - geometry.rf_width / 2, cy - geometry.rf_height / 2,
                 cx + geometry.rf_width / 2, cy + geometry.rf_height / 2)
    clipped = (max(0, unclipped[0]), max(0, unclipped[1]), min(width, unclipped[2]), min(height, unclipped[3]))
    for got, want in zip((patch.x0, patch.y0, patch.x1, patch.y1), clipped, strict=True):
        assert abs(got - want) <= 1


def test_resnet_layer4_cells_sit_on_the_receptive_field_centres(registry: ModelRegistry) -> None:
    """The reviewed case: with padding, ResNet18 layer4 cells are centred at 32c + 0.5, not 32c + 16."""
    info = registry.get("resnet18").layers["layer4.1.conv2"]
    geometry = map_geometry(info.receptive_field, 224, 224, 224)
    assert [geometry.centre(0, c)[0] for c in range(7)] == [32 * c + 0.5 for c in range(7)]
    assert geometry.rf_width == geometry.rf_height == 435


def test_sample_map_interpolates_between_centres_and_holds_the_edges() -> None:
    fmap = np.arange(12, dtype=np.float32).reshape(3, 4)
    geometry = MapGeometry(x0=5.0, dx=10.0, y0=5.0, dy=10.0, rf_width=10.0, rf_height=10.0)
    dense = sample_map(fmap, geometry, 40, 30, 40, 30)
    # Grid pixel k is centred at k + 0.5: cell centres 5, 15, ... fall between pixels 4 and 5.
    assert dense[10, 10] == pytest.approx((fmap[0, 0] + fmap[0, 1] + fmap[1, 0] + fmap[1, 1]) / 4 + 0.05 * 1 + 0.05 * 4)
    np.testing.assert_allclose(sample_map(fmap, geometry, 40, 30, 4, 3), fmap)  # one grid pixel per cell centre
    # Beyond the outermost centres the outermost cell's value holds (documented in geometry.py).
    shifted = MapGeometry(x0=0.5, dx=4.0, y0=0.5, dy=4.0, rf_width=4.0, rf_height=4.0)
    dense = sample_map(fmap, shifted, 40, 30, 40, 30)
    assert dense[0, 39] == fmap[0, 3] and dense[29, 39] == fmap[2, 3] and dense[29, 0] == fmap[2, 0]


def test_non_square_steps() -> None:
    rf = ReceptiveField(size_x=13, size_y=7, jump_x=2, jump_y=1, start_x=0.5, start_y=1.5)
    g = map_geometry(rf, 20, 40, 10)
    assert (g.x0, g.dx, g.y0, g.dy, g.rf_width, g.rf_height) == (1.0, 4.0, 0.75, 0.5, 26.0, 3.5)
    assert g.cell_at(9.1, 0.75, rows=5, cols=5) == (0, 2)
    assert g.pixel_box(0, 2, 40, 10) == (0, 0, 22, 3)
