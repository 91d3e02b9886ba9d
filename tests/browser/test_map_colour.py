"""The maps' colours in a real browser: a colormap change repaints the cells
itself (assets/js/mapcolour.js) and must paint exactly what plotly.js paints,
in the colours of the chosen map's stops, on the heatmaps and the grid."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Locator, Page, expect

from dashapp.figures.colormaps import COLORSCALES

from .helpers import by_dash_id, snap
from .test_pages import choose_dropdown_option, open_default, update_requests, wait_for_heatmaps

pytestmark = pytest.mark.browser

# Every heatmap trace's drawn cells (its <image>'s picture) as RGBA rows, by trace index.
CELLS = """
async (gd) => {
  const out = {};
  for (const group of gd.querySelectorAll('g.hm')) {
    const image = group.querySelector('image');
    const picture = new Image();
    picture.src = image.getAttributeNS('http://www.w3.org/1999/xlink', 'href');
    await picture.decode();
    const canvas = document.createElement('canvas');
    canvas.width = picture.naturalWidth;
    canvas.height = picture.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(picture, 0, 0);
    out[group.__data__[0].trace.index] = {width: canvas.width, height: canvas.height,
      rgba: Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data)};
  }
  return out;
}
"""

REPAINT = "(gd, scale) => window.dashappMapColour.recolour(gd, gd.data.map((t, i) => i), scale) !== null"
RESTYLE = "(gd, scale) => Plotly.restyle(gd, {colorscale: [scale]}).then(() => true)"


def cells(plot: Locator) -> dict[str, Any]:
    return plot.evaluate(CELLS)


def reference_rgb(z: np.ndarray, zmin: float, zmax: float, stops: list[list[Any]]) -> np.ndarray:
    """The colour of each value by the stops, computed here (numpy, not
    plotly.js): linear in RGB between neighbouring stops, rounded."""
    def rgb(colour: str) -> list[int]:
        if colour.startswith("#"):
            return [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
        return [int(v) for v in re.findall(r"\d+", colour)[:3]]
    positions = [zmin + float(s) * (zmax - zmin) for s, _ in stops]
    channels = np.array([rgb(str(c)) for _, c in stops], dtype=float)
    return np.stack([np.round(np.interp(z, positions, channels[:, k])) for k in range(3)], axis=-1)


def test_repainted_cells_equal_plotly_restyle_and_the_stops_for_every_colormap(page: Page) -> None:
    open_default(page, "/heatmaps")
    wait_for_heatmaps(page)
    page.wait_for_load_state("networkidle")
    plot = by_dash_id(page, index="heat-1", type="fig").locator(".js-plotly-plot")
    z = np.array(plot.evaluate("gd => gd.calcdata[0][0].z.map(row => Array.from(row))"), dtype=float)
    zmin, zmax = plot.evaluate("gd => [gd._fullData[0].zmin, gd._fullData[0].zmax]")
    assert z.max() > z.min()  # a map with contrast, or every colour test would pass on one colour
    previous = None
    for name, stops in COLORSCALES.items():
        assert plot.evaluate(REPAINT, stops), f"{name}: the repaint refused the map"
        ours = cells(plot)["0"]
        assert plot.evaluate("(gd, s) => JSON.stringify(gd._fullData[0].colorscale) === JSON.stringify(s)", stops)
        assert plot.evaluate(RESTYLE, stops)
        theirs = cells(plot)["0"]
        assert (ours["width"], ours["height"]) == (z.shape[1], z.shape[0]) == (theirs["width"], theirs["height"])
        # plotly.js's own drawing of the same scale: the same pixels, to the last bit.
        assert ours["rgba"] == theirs["rgba"], f"{name}: the repaint differs from Plotly.restyle"
        # An independent check: the stops' colours, interpolated here (row 0 is the image's top).
        rgba = np.array(ours["rgba"]).reshape(z.shape[0], z.shape[1], 4)
        assert np.all(rgba[..., 3] == 255)
        assert np.abs(rgba[..., :3] - reference_rgb(z, zmin, zmax, stops)).max() <= 1, name
        assert previous is None or rgba.tolist() != previous, f"{name} drew the previous colormap's colours"
        previous = rgba.tolist()

    # Full data and data agree, so plotly.js redrawing on its own keeps the picture.
    assert plot.evaluate(REPAINT, COLORSCALES["Inferno"])
    repainted = cells(plot)["0"]["rgba"]
    plot.evaluate("gd => Plotly.redraw(gd).then(() => true)")
    assert cells(plot)["0"]["rgba"] == repainted

    # A map plotly.js drew another way (smoothed) is left to Plotly.restyle.
    plot.evaluate("gd => Plotly.restyle(gd, {zsmooth: 'best'}).then(() => true)")
    assert not plot.evaluate(REPAINT, COLORSCALES["Hot"])


# True once every graph matching the selector is drawn with every heatmap trace in the scale.
ALL_IN = """
([selector, scale]) => {
  const graphs = Array.from(document.querySelectorAll(selector));
  return graphs.length > 0 && graphs.every(gd => gd._fullData && gd._fullData.length &&
    gd._fullData.every(t => JSON.stringify(t.colorscale) === JSON.stringify(scale)));
}
"""
HEATMAPS = "#heat-grid .js-plotly-plot, [id='{\"index\":\"heat-big\",\"type\":\"fig\"}'] .js-plotly-plot"
GRID = "[id='{\"index\":\"grid\",\"type\":\"fig\"}'] .js-plotly-plot"


def redrawn_alike(plot: Locator) -> bool:
    """Whether plotly.js, drawing the graph again from its data, paints the cells it shows now."""
    before = cells(plot)
    plot.evaluate("gd => Plotly.redraw(gd).then(() => true)")
    return bool(before) and cells(plot) == before


def test_choosing_inferno_or_plasma_paints_them_on_every_map_of_both_pages(page: Page) -> None:
    """Before the stops, plotly.js drew the names it lacks (Inferno, Plasma) in its default RdBu."""
    open_default(page, "/heatmaps")
    wait_for_heatmaps(page)
    page.wait_for_load_state("networkidle")
    maps = page.locator(HEATMAPS)
    with update_requests(page) as seen:
        choose_dropdown_option(page, "ctl-colormap", re.compile(r"^Inferno — "))
        page.wait_for_function(ALL_IN, arg=[HEATMAPS, COLORSCALES["Inferno"]])
        page.wait_for_load_state("networkidle")
    assert not seen, "a colormap change called the server"
    expect(maps).to_have_count(7)
    for i in range(7):
        assert redrawn_alike(maps.nth(i)), f"map {i}: the repainted cells differ from plotly.js's"
    snap(page, "15b-inferno")

    # The grid: one figure, one trace (one <image>) per filter.
    page.goto(page.url.replace("/heatmaps", "/grid"))
    grid = page.locator(GRID)
    expect(grid.locator(".heatmaplayer image").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    traces = grid.evaluate("gd => gd.data.length")
    assert traces > 1
    expect(grid.locator(".heatmaplayer image")).to_have_count(traces)
    choose_dropdown_option(page, "ctl-colormap", re.compile(r"^Plasma — "))
    page.wait_for_function(ALL_IN, arg=[GRID, COLORSCALES["Plasma"]])
    assert len(cells(grid)) == traces
    assert redrawn_alike(grid), "the grid's repainted cells differ from plotly.js's"
