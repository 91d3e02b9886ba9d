"""The heatmaps page's browser ranking (assets/js/ranking.js) against the
server's definitions, in a real Chromium: the same filters in the same order
with the same scores as ``analysis/maps/stats.rank_filters`` for every
criterion and the edge cases (ties, silent and dead filters, the 5 % rule at
its float32 boundary, no eligible filter); numbers written as
``dashapp.i18n`` writes them; and every map figure built from the layer
bundle equal to the one ``figures/maps.heatmap_figure`` draws on the server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import plotly.utils
import pytest
from playwright.sync_api import Browser, Page

from dashapp import i18n
from dashapp.analysis.maps.stats import CRITERIA, MIN_RELATIVE_PEAK, FilterStats, filter_stats, rank_filters
from dashapp.pages._common import heatmap_of
from dashapp.pages._layer_bundle import layer_bundle, number_marks, slot_template, stats_bytes
from dashapp.service import Analyzer
from dashapp.state.schema import ViewState
from dashapp.store.codec import to_half, to_single
from dashapp.ui.layout.widgets import heatmap_slot

from .helpers import ROOT

pytestmark = pytest.mark.browser

SCRIPT = ROOT / "assets" / "js" / "ranking.js"


@pytest.fixture(scope="module")
def ranking_page(browser: Browser) -> Iterator[Page]:
    """A blank page with the ranking script alone (no server)."""
    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(path=str(SCRIPT))
    yield page
    page.close()


def served_maps(rng: np.random.Generator, count: int, cells: int, silent: float) -> np.ndarray:
    """Rectified maps as the store serves them (float16-rounded, back in float32)."""
    maps = np.maximum(rng.normal(0.0, 1.0, (count, cells)).astype(np.float32), 0) * rng.uniform(0.1, 9, (count, 1))
    maps[rng.random((count, cells)) < silent] = 0
    return to_single(to_half(maps.astype(np.float32)))


def edge_layers(rng: np.random.Generator) -> list[FilterStats]:
    """Layers with the cases a ranking can trip on."""
    layers = [filter_stats(served_maps(rng, int(rng.integers(1, 70)), int(rng.integers(1, 60)),
                                       float(rng.uniform(0, 0.9)))) for _ in range(40)]
    base = served_maps(rng, 12, 49, 0.3)
    layers.append(filter_stats(np.concatenate([base, base, base[:3]])))  # ties on every statistic
    layers.append(filter_stats(np.zeros((9, 16), dtype=np.float32)))  # a silent layer
    dead = served_maps(rng, 10, 25, 0.5)
    dead[[2, 5]] = 0
    layers.append(filter_stats(dead))  # dead filters beside live ones
    # Peaks at the 5 % rule's float32 boundary (exactly the threshold, a step under, a step over), for
    # tops whose threshold float32 rounds down and up: numpy compares in float32.
    directions = set()
    while len(directions) < 2:
        edge = served_maps(rng, 8, 36, 0.2)
        edge[[1, 3, 5]] = 0  # the layer's top peak is elsewhere
        top = float(edge.max())
        threshold = np.float32(MIN_RELATIVE_PEAK * top)
        if float(threshold) == MIN_RELATIVE_PEAK * top:
            continue
        directions.add(float(threshold) < MIN_RELATIVE_PEAK * top)
        for row, peak in zip((1, 3, 5), (threshold, np.nextafter(threshold, np.float32(0)),
                                         np.nextafter(threshold, np.float32(1e9))), strict=True):
            edge[row, :6] = peak
        layers.append(filter_stats(edge))
    return layers


def browser_rank(page: Page, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return page.evaluate("""cases => cases.map(c => {
        const stats = window.dashappRanking.statsOf({stats: c.stats});
        const r = window.dashappRanking.rank(stats, c.criterion, c.n, c.min_sparsity, c.weight, c.peak);
        return {order: r.filters.map(f => f.index), scores: r.filters.map(f => f.score), eligible: r.eligible};
    })""", cases)


def test_the_browser_ranks_as_the_server_does(ranking_page: Page) -> None:
    rng = np.random.default_rng(26)
    cases, expected = [], []
    for stats in edge_layers(rng):
        cutoffs = [0.0, 0.15, 0.8, float(stats.sparsity[0])]  # the last: a filter exactly at the cutoff
        for criterion in CRITERIA:
            for n in (1, 6, 24):
                min_sparsity = cutoffs[int(rng.integers(len(cutoffs)))]
                weight = [0.0, 0.5, 1.0, 0.35, 0.123457][int(rng.integers(5))]
                ranking = rank_filters(stats, criterion, n, min_sparsity, weight)
                cases.append({"stats": stats_bytes(stats), "criterion": criterion, "n": n,
                              "min_sparsity": min_sparsity, "weight": weight, "peak": MIN_RELATIVE_PEAK})
                expected.append({"order": [f.index for f in ranking.filters],
                                 "scores": [f.score for f in ranking.filters], "eligible": ranking.eligible})
    got = browser_rank(ranking_page, cases)
    assert len(got) == len(expected) > 500
    for case, mine, theirs in zip(cases, got, expected, strict=True):
        assert mine == theirs, {k: v for k, v in case.items() if k != "stats"}
    # The cases reach what they are for: an empty ranking, ties, and the boundary filters on both sides.
    assert any(not e["order"] for e in expected) and any(len(set(e["scores"])) < len(e["scores"]) for e in expected)


NUMBERS = [0.0, 0.1235, 0.0005, 0.0015, 2.675, 0.9995, 1.0, 999.9995, 1234.5678, 12345678.25, 1e-7, 3.0517578125e-05,
           0.30000001192092896, 65504.0, 1e21, 5e-324]


@pytest.mark.parametrize("language", ["en", "es"])
def test_numbers_are_written_as_the_server_writes_them(ranking_page: Page, language: str) -> None:
    rng = np.random.default_rng(7)
    values = NUMBERS + [float(v) for v in rng.uniform(0, 5, 300)]
    values += [float(np.float32(v)) for v in rng.uniform(0, 1, 300)]  # float32 scores, as the ranking gives them
    fractions = [0.0, 1.0, 0.125, 0.005, 0.995, 0.145, 0.5] + [k / 784 for k in range(785)]
    i18n.use(language)
    try:
        marks = number_marks()
        expected = {"fixed": [i18n.number(v, 3) for v in values], "percent": [i18n.percent(f) for f in fractions]}
    finally:
        i18n.use("en")
    got = ranking_page.evaluate("""([values, fractions, marks]) => ({
        fixed: values.map(v => window.dashappRanking.fixed(v, 3, marks)),
        percent: fractions.map(f => window.dashappRanking.percent(f, marks))})""", [values, fractions, marks])
    assert got == expected


def plain(value: Any) -> Any:
    """A figure or component as the JSON Dash sends."""
    return json.loads(json.dumps(value, cls=plotly.utils.PlotlyJSONEncoder))


@pytest.mark.parametrize("model, layer", [("resnet18", "layer2.0.conv1"), ("resnet18", "conv1"),
                                          ("alexnet", "features.10")])
def test_the_browsers_figures_are_the_servers(ranking_page: Page, make_analyzer: Callable[..., Analyzer],
                                              model: str, layer: str) -> None:
    service = make_analyzer()
    view = service.open(ViewState(image=service.library.default_image(), model=model, layer=layer))
    bundle = layer_bundle(view)
    count = view.maps.shape[0]
    got = ranking_page.evaluate("""bundle => Array.from({length: bundle.count},
        (_, i) => window.dashappRanking.figureOf(bundle, i))""", bundle)
    assert len(got) == count == bundle["count"]
    for index in range(count):
        assert got[index] == plain(heatmap_of(view, view.maps[index], index)), index
    # A slot the browser adds is the slot the server lays.
    slot = ranking_page.evaluate("bundle => window.dashappRanking.slotFor(bundle, 7)", bundle)
    assert slot[0] == plain(heatmap_slot("heat-7", title=""))
    assert slot[1]["props"]["id"] == {"type": "heat-open", "index": "heat-7"} and len(slot) == len(slot_template())
