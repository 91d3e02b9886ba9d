"""The words the analysis produces, in Spanish in a real browser: the hover
sentence the browser fills in (assets/js/dashapp.js, with the decimal comma),
the text alternative beside each heatmap, the layer's meaning and a filter's
reading. Every wait is on a condition."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .helpers import hover_heatmap, snap

pytestmark = pytest.mark.browser

SHA = re.compile(r"[?&]image=([0-9a-f]{64})")


def test_heatmap_words_and_hover_in_spanish(page: Page) -> None:
    page.goto("/heatmaps?lang=es")
    page.wait_for_url(SHA)
    expect(page.locator("#heat-grid .heatmaplayer image")).to_have_count(6)
    description = page.locator("#heat-grid .map-description").first
    expect(description).to_have_text(re.compile(r"^Filtro \d+: respuesta máxima de [0-9,]+ en .* de la imagen"))
    expect(page.locator("#layer-meaning")).to_have_text(re.compile(r"^layer2\.0\.conv1 es la primera convolución"))
    hover = hover_heatmap(page, "heat-1")
    expect(hover).to_have_text(re.compile(
        r"^Filtro \d+: respuesta \d+(,\d+)? \(percentil \d+ de este mapa\) en x \d+, y \d+ px; "
        r"campo receptivo de \d+×\d+ px$"))
    snap(page, "wording-heatmaps-es", full_page=False)


def test_detail_reading_in_spanish(page: Page) -> None:
    page.goto("/detail?lang=es")
    page.wait_for_url(SHA)
    summary = page.locator("#detail-side .reading-summary")
    expect(summary).to_contain_text(re.compile(r"El filtro \d+ (es muy|es moderadamente|es poco|no es) selectivo "
                                               r"\(sin respuesta en el \d+\s%"))
    expect(page.locator("#detail-side .reading-details li").first).to_have_text(
        re.compile(r"^(Uno de los filtros más fuertes|Más fuerte que|Más débil que)"))
    # Seeded random weights: the reading warns that the filter learned nothing.
    expect(page.locator("#detail-side .reading-warning").first).to_contain_text("pesos sin entrenar")
    snap(page, "wording-detail-es")


def test_plotlys_own_words_follow_the_page_language(page: Page) -> None:
    """assets/js/language.js: the modebar and the box plots' hover labels, from the catalog."""
    page.goto("/profile?lang=es")
    page.wait_for_url(SHA)
    boxes = page.locator(".js-plotly-plot .boxlayer path")
    expect(boxes.nth(3)).to_be_attached()
    titles = page.locator(".modebar-btn").evaluate_all("els => els.map(e => e.getAttribute('data-title'))")
    assert "Descargar gráfico como PNG" in titles and "Download plot as a PNG" not in titles, titles
    box = boxes.nth(3).bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=4)
    expect(page.locator(".hoverlayer").first).to_contain_text("mediana:")
    page.goto("/profile?lang=en")
    expect(page.locator(".js-plotly-plot .boxlayer path").nth(3)).to_be_attached()
    titles = page.locator(".modebar-btn").evaluate_all("els => els.map(e => e.getAttribute('data-title'))")
    assert "Download plot as a PNG" in titles, titles
