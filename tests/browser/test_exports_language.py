"""A figure's PNG keeps its context (assets/js/export.js): named after the
view, with a title, without the hover box; and the Spanish page's app name,
plotly toolbar and number marks."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from .helpers import hover_heatmap
from .test_pages import open_default, plot_of, wait_for_heatmaps

pytestmark = pytest.mark.browser

LAYER = "layer2.0.conv1"
EXPORTED = "gd => window.dashappExport.figure(gd)"
TITLE = "gd => window.dashappExport.titleOf(window.dashappExport.figure(gd))"


def title_strip(png: bytes, rows: int) -> tuple[int, int]:
    """Of the PNG's top ``rows`` rows: how many hold dark pixels (text), and
    how many are blank white (the strip around it; a picture has none)."""
    picture = Image.open(io.BytesIO(png)).convert("L")
    pixels = picture.load()
    assert pixels is not None
    lines = [[pixels[x, y] for x in range(picture.width)] for y in range(min(rows, picture.height))]
    return sum(1 for line in lines if min(line) < 128), sum(1 for line in lines if min(line) >= 250)


def test_a_map_png_is_named_after_the_view_titled_and_without_the_hover_box(page: Page) -> None:
    sha = open_default(page, "/heatmaps")
    page.goto(f"/heatmaps?image={sha}&model=resnet18&layer={LAYER}&n=6")
    wait_for_heatmaps(page)
    plot = plot_of(page, "heat-1")
    expect(hover_heatmap(page, "heat-1")).not_to_be_empty()
    page.wait_for_function("gd => (gd.layout.shapes || []).some(s => s.line && s.line.dash === 'dot')",
                           arg=plot.element_handle())
    exported = plot.evaluate(EXPORTED)
    shown_filter = plot.evaluate("gd => gd.layout.meta.filter")
    assert exported["filename"] == f"resnet18_{LAYER}_filter{shown_filter}"
    assert not [s for s in exported["layout"]["shapes"] if (s.get("line") or {}).get("dash") == "dot"]
    title = plot.evaluate(TITLE)
    assert "resnet18" in title and LAYER in title and f"Filter {shown_filter}" in title and sha[:8] in title, title
    # Where the weights come from, with their tag (as the CSV and JSON exports say it).
    assert re.search(r"resnet18 \(untrained weights random\d+\)", title), title
    assert re.search(r"CNN Activation Analyzer \d+\.\d+\.\d+", title), title
    # The screen's figure keeps its hover box and has no title.
    assert plot.evaluate("gd => !(gd.layout.title && gd.layout.title.text)")


def test_the_detail_pages_png_download(page: Page) -> None:
    sha = open_default(page, "/detail")
    page.goto(f"/detail?image={sha}&model=resnet18&layer={LAYER}&filter=88")
    graph = page.locator("#detail-regions .js-plotly-plot")
    expect(graph.locator(".shapelayer path, .layer-above image, .imagelayer image").first).to_be_attached()
    area = graph.locator(".nsewdrag").bounding_box()
    assert area is not None
    page.mouse.move(area["x"] + area["width"] / 2, area["y"] + area["height"] / 2)
    button = graph.locator(".modebar-btn[data-title='Download plot as a PNG']")
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename == f"resnet18_{LAYER}_filter88.png"
    path = download.path()
    png = path.read_bytes()
    exported = graph.evaluate(EXPORTED)
    title = graph.evaluate(TITLE)
    assert "resnet18" in title and LAYER in title and "Filter 88" in title, title
    # The title is drawn: text on white in the strip above the plot (scale 2),
    # where a title-less figure (margin 0 on the regions plot) has the picture.
    ink, blank = title_strip(png, exported["layout"]["margin"]["t"] * 2)
    assert ink >= 8 and blank >= 10, (ink, blank)


def test_spanish_names_the_app_speaks_plotly_and_writes_decimal_commas(page: Page) -> None:
    page.goto("/prediction?lang=es")
    page.wait_for_url(re.compile(r"image=[0-9a-f]{64}"))
    expect(page.locator(".navbar-brand")).to_have_text(re.compile(r"Analizador de Activaciones de CNN"))
    expect(page).to_have_title(re.compile(r"· Analizador de Activaciones de CNN$"))
    chart = page.locator("#prediction-chart .js-plotly-plot")
    expect(chart.locator(".xtick text").first).to_be_attached()
    titles = chart.locator(".modebar-btn").evaluate_all("bs => bs.map(b => b.getAttribute('data-title'))")
    assert "Descargar gráfico como PNG" in titles and "Download plot as a PNG" not in titles, titles
    ticks = chart.locator(".xtick text").evaluate_all("ts => ts.map(t => t.textContent)")
    decimal = [t for t in ticks if re.search(r"\d,\d", t)]
    assert decimal and not [t for t in ticks if re.search(r"\d\.\d", t)], ticks
    # Numbers in the page's text: "12,3 %" with a comma, never "12.3%".
    text = page.locator("#main-content").inner_text()
    assert re.search(r"\d,\d\s?%", text) and not re.search(r"\d\.\d\s?%", text)
