"""Class evidence at blocks and convs, the hover box placed by the one
geometry rule in a real browser, and the sanity check run from the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .helpers import by_dash_id, query_of, snap

pytestmark = pytest.mark.browser


def shown_figure(page: Page, index: str) -> dict:
    """The figure plotly is drawing (layout.meta and the hover shape)."""
    graph = by_dash_id(page, index=index, type="fig")
    return graph.locator(".js-plotly-plot").evaluate("el => ({meta: el.layout.meta, shapes: el.layout.shapes})")


def test_evidence_layer_choice_meaning_hover_box_and_sanity_check(page: Page) -> None:
    page.goto("/evidence?model=resnet18&cls=281")
    expect(page.locator("#evidence-title")).to_contain_text("at layer4 (block)")
    expect(page.locator("#evidence-meaning")).to_contain_text("output of stage 4")

    # A conv branch: the page says what it is.
    page.locator("#evidence-layer").click()
    page.locator("input.dash-dropdown-search").fill("layer4.1.conv2")
    page.locator("[role=option]", has_text="layer4.1.conv2").first.click()
    page.wait_for_url(lambda url: query_of(url).get("elayer") == "layer4.1.conv2")
    expect(page.locator("#evidence-title")).to_contain_text("at layer4.1.conv2 (conv)")
    expect(page.locator("#evidence-meaning")).to_contain_text("before the identity is added")

    # The sanity check for what is on screen: a verdict in words and the per-step plot.
    expect(page.locator("#evidence-sanity")).to_contain_text("Not run yet")
    page.locator("#evidence-sanity-run").click()
    verdict = page.locator("#evidence-sanity .sanity-verdict")
    expect(verdict).to_contain_text("rank correlation")
    text = verdict.inner_text()
    assert text.startswith(("Passed", "Failed", "Undecided")), text
    expect(page.locator("#evidence-sanity-figure .scatterlayer .trace")).to_have_count(2)
    snap(page, "25-evidence-sanity")

    # A small receptive field (AlexNet features.0): the hover box the browser
    # draws is the field of a whole cell, centred on a cell centre.
    page.goto("/evidence?model=alexnet&layer=features.0&elayer=features.0&cls=281")
    expect(page.locator("#evidence-title")).to_contain_text("at features.0 (conv)")
    graph = by_dash_id(page, index="evidence", type="fig")
    box = graph.locator(".nsewdrag").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.43, box["y"] + box["height"] * 0.57)
    expect(by_dash_id(page, index="evidence", type="fig-hover")).to_contain_text("receptive field")
    expect(by_dash_id(page, index="evidence", type="fig-hover")).to_contain_text("Grad-CAM for “tabby” at features.0")
    figure = shown_figure(page, "evidence")
    g, shape = figure["meta"]["geometry"], figure["shapes"][0]
    assert shape["x1"] - shape["x0"] == pytest.approx(g["rf_width"])
    assert shape["y1"] - shape["y0"] == pytest.approx(g["rf_height"])
    col = ((shape["x0"] + shape["x1"]) / 2 - g["x0"]) / g["dx"]
    row = ((shape["y0"] + shape["y1"]) / 2 - g["y0"]) / g["dy"]
    assert col == pytest.approx(round(col), abs=1e-6) and row == pytest.approx(round(row), abs=1e-6)
    assert 0.35 < col / figure["meta"]["cols"] < 0.5 and 0.5 < row / figure["meta"]["rows"] < 0.65
