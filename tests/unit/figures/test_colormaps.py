"""Colormaps reach plotly.js as stops, never as names it may not know."""

from __future__ import annotations

import json
import re
from itertools import pairwise

import numpy as np
import pytest

from dashapp.analysis.models.graph import ReceptiveField
from dashapp.figures.colormaps import COLORSCALES, colorscale
from dashapp.figures.maps import grid_figure, heatmap_figure
from dashapp.state.schema import COLORMAPS
from dashapp.web import plotly_bundle

HEX = re.compile(r"^#[0-9a-f]{6}$", re.IGNORECASE)
RGB = re.compile(r"^rgb\(\d{1,3},\s*\d{1,3},\s*\d{1,3}\)$")


def bundle_scale(name: str) -> list[list[float | str]] | None:
    """plotly.js's own table entry for a name, read from the bundle the app serves."""
    bundle = plotly_bundle.BUNDLE.read_text(encoding="utf-8")
    match = re.search(rf"\b{name}:(\[\[0,\"[^\]]*\](?:,\[[^\]]*\])*\])", bundle)
    return json.loads(re.sub(r"(?<=[\[,])\.(\d)", r"0.\1", match.group(1))) if match else None


def test_every_colormap_the_state_accepts_has_stops_from_0_to_1() -> None:
    assert tuple(COLORSCALES) == COLORMAPS
    for name, stops in COLORSCALES.items():
        positions = [stop[0] for stop in stops]
        assert positions[0] == 0.0 and positions[-1] == 1.0, name
        assert all(a < b for a, b in pairwise(positions)), name
        assert all(HEX.match(str(c)) or RGB.match(str(c)) for _, c in stops), name


@pytest.mark.parametrize("name", ["Viridis", "Cividis", "Greys", "Jet", "Hot"])
def test_names_plotly_js_knows_keep_its_own_stops(name: str) -> None:
    ours = bundle_scale(name)
    assert ours is not None, f"{name} is not in the bundle's colour-scale table"
    assert [[float(s), str(c)] for s, c in ours] == COLORSCALES[name]


@pytest.mark.parametrize(("name", "first", "last"), [
    # matplotlib's inferno and plasma end points (_cm_listed.py), an independent record
    ("Inferno", "#000004", "#fcffa4"),
    ("Plasma", "#0d0887", "#f0f921"),
])
def test_names_plotly_js_lacks_are_the_matplotlib_maps(name: str, first: str, last: str) -> None:
    # plotly.js would draw these names with its default RdBu; it has no entry for them.
    assert bundle_scale(name) is None
    stops = COLORSCALES[name]
    assert (stops[0][1], stops[-1][1]) == (first, last)
    assert len(stops) >= 8


def test_colorscale_hands_out_a_copy_and_refuses_unknown_names() -> None:
    stops = colorscale("Inferno")
    stops[0][1] = "#ffffff"
    assert COLORSCALES["Inferno"][0][1] == "#000004"
    with pytest.raises(KeyError):
        colorscale("RdBu")


@pytest.mark.parametrize("name", COLORMAPS)
def test_figures_carry_the_stops_not_the_name(name: str) -> None:
    fmap = np.arange(16, dtype=np.float32).reshape(4, 4)
    heat = heatmap_figure(fmap, "", 8, 8, ReceptiveField.square(1.0, 1.0, 0.5), 8, 0, colormap=name)
    grid = grid_figure([fmap, fmap], ["a", "b"], [0, 1], colormap=name)
    for trace in (*heat.data, *grid.data):
        assert [list(stop) for stop in trace.colorscale] == COLORSCALES[name]
