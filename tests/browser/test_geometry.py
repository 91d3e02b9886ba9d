"""The browser's map geometry is MapGeometry's: assets/js/geometry.js, run in
Chromium over a table of cases (every layer of both models, square and
non-square images, cell centres, points midway between centres, the image's
edges and points outside it), answers exactly as
dashapp/analysis/maps/geometry.py does. And the app's page has what the
Python side counts on: the geometry, and every ClientsideFunction it names."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page

from dashapp.analysis.maps.geometry import MapGeometry, evenly_spread, map_geometry
from dashapp.analysis.models.graph import ReceptiveField
from dashapp.analysis.models.registry import ModelRegistry
from tests.support.clientside import named_functions

from .helpers import ROOT

pytestmark = pytest.mark.browser

GEOMETRY_JS = ROOT / "assets" / "js" / "geometry.js"
SIZES = [(224, 224), (250, 180), (160, 240), (37, 500), (1000, 3)]
# Hand-made fields a real layer of these models does not have: a start left of
# the image (more padding than half the kernel) and unequal steps per axis.
FIELDS = {
    "padded-left": (ReceptiveField(size_x=9, size_y=9, jump_x=3, jump_y=3, start_x=-3.5, start_y=-1.5), 32, (11, 11)),
    "unequal-steps": (ReceptiveField(size_x=13, size_y=7, jump_x=2, jump_y=1, start_x=0.5, start_y=1.5), 20, (5, 9)),
}


@dataclass(frozen=True)
class Case:
    name: str
    geometry: MapGeometry
    rows: int
    cols: int
    width: int
    height: int

    def points(self) -> list[tuple[float, float]]:
        """Cell centres, points midway between neighbouring centres (ties),
        the image's corners, points outside it, and a few anywhere."""
        g, w, h = self.geometry, self.width, self.height
        picked = sorted({(0, 0), (self.rows - 1, self.cols - 1), (self.rows // 2, self.cols // 3)})
        found: list[tuple[float, float]] = []
        for row, col in picked:
            cx, cy = g.centre(row, col)
            found += [(cx, cy), (cx + g.dx / 2, cy), (cx, cy + g.dy / 2), (cx - g.dx / 2, cy - g.dy / 2)]
        found += [(0, 0), (w, h), (w, 0), (0, h), (-1000, -7), (w + 50, 3 * h), (-0.25, h / 2), (w / 2, h + 0.25)]
        rng = random.Random(f"{self.name} {w}x{h}")
        found += [(rng.uniform(-0.2 * w, 1.2 * w), rng.uniform(-0.2 * h, 1.2 * h)) for _ in range(8)]
        return found

    def asked(self) -> dict[str, Any]:
        return {"name": self.name, "g": self.geometry.as_dict(), "rows": self.rows, "cols": self.cols,
                "width": self.width, "height": self.height, "points": self.points()}

    def answers(self) -> list[list[Any]]:
        """MapGeometry's answer for each point: [[row, col], [x0, y0, x1, y1]]."""
        g = self.geometry
        cells = [g.cell_at(x, y, rows=self.rows, cols=self.cols) for x, y in self.points()]
        return [[list(cell), list(g.box(*cell, self.width, self.height))] for cell in cells]


def cases(registry: ModelRegistry) -> list[Case]:
    found = []
    for model in ("resnet18", "alexnet"):
        loaded = registry.get(model)
        for layer, info in loaded.layers.items():
            rows, cols = info.map_size
            found += [Case(f"{model} {layer}", map_geometry(info.receptive_field, loaded.input_size, w, h),
                           rows, cols, w, h) for w, h in SIZES]
    for name, (rf, input_size, (rows, cols)) in FIELDS.items():
        found += [Case(name, map_geometry(rf, input_size, w, h), rows, cols, w, h) for w, h in SIZES]
    found += [Case("evenly spread", evenly_spread(3, 4, w, h), 3, 4, w, h) for w, h in SIZES]
    return found


ASK = """([cases]) => cases.map(c => c.points.map(([x, y]) => {
    const cell = window.dashappGeometry.cellAt(c.g, x, y, c.rows, c.cols);
    return [cell, window.dashappGeometry.box(c.g, cell[0], cell[1], c.width, c.height)];
}))"""


def test_the_browser_geometry_answers_as_map_geometry(page: Page, registry: ModelRegistry) -> None:
    table = cases(registry)
    page.set_content("<!doctype html><title>geometry</title>")
    page.add_script_tag(path=str(GEOMETRY_JS))
    got = page.evaluate(ASK, [[case.asked() for case in table]])
    wrong = [f"{case.name} on {case.width}x{case.height} at {point}: browser {answer}, MapGeometry {want}"
             for case, answers in zip(table, got, strict=True)
             for point, answer, want in zip(case.points(), answers, case.answers(), strict=True) if answer != want]
    assert not wrong, f"{len(wrong)} answers differ:\n" + "\n".join(wrong[:20])


def test_the_table_holds_ties_a_plain_round_half_up_would_miss(registry: ModelRegistry) -> None:
    """The table can fail an implementation with Math.round (a tie up):
    Python's round takes a tie to the even integer, and the table has
    points exactly midway between two centres, below an even index."""
    ties = 0
    for case in cases(registry):
        g = case.geometry
        for x, y in case.points():
            for v in ((x - g.x0) / g.dx, (y - g.y0) / g.dy):
                ties += v - math.floor(v) == 0.5 and math.floor(v) % 2 == 0 and round(v) != math.floor(v + 0.5)
    assert ties >= 20, ties


def test_the_app_page_has_the_geometry_and_every_named_clientside_function(page: Page) -> None:
    page.goto("/dataset")
    page.wait_for_function("() => window.dash_clientside && window.dashappGeometry")
    assert page.evaluate("() => Object.keys(window.dashappGeometry).sort()") == ["box", "cellAt", "centre"]
    missing = page.evaluate(
        """(pairs) => pairs.filter(([namespace, name]) =>
            typeof (window.dash_clientside[namespace] || {})[name] !== 'function')""",
        sorted(named_functions()))
    assert not missing, f"named in dashapp/ but not a function on the page: {missing}"
