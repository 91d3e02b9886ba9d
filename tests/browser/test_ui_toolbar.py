"""Plotly's toolbar stays out of the way: shown on hover only, above the
plot (never over the image), with two buttons (download PNG, reset), and one
Tab stop per figure."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .helpers import by_dash_id
from .test_keyboard import focused
from .test_pages import open_default, plot_of, wait_for_heatmaps

pytestmark = pytest.mark.browser

MAPS = 6


def tab_stops_until(page: Page, element_id: str, limit: int = 80) -> list[str]:
    """The Tab stops from the page's main content to ``element_id`` (exclusive)."""
    page.locator("#main-content").focus()
    stops: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if now["id"] == element_id:
            return stops
        stops.append(f"{now['tag']}#{now['id']} .{now['cls'][:40]} {now['name'][:30]!r}")
    pytest.fail(f"Tab never reached #{element_id}; it went through:\n" + "\n".join(stops[-40:]))


def test_heatmaps_toolbar_is_one_tab_stop_and_off_the_image(page: Page) -> None:
    open_default(page, "/heatmaps")
    wait_for_heatmaps(page)
    expect(page.locator("#heat-grid .modebar")).to_have_count(MAPS)
    # Two buttons a figure: download a PNG, reset the axes.
    bar = plot_of(page, "heat-1").locator(".modebar")
    expect(bar.locator(".modebar-btn")).to_have_count(2)
    assert [b.get_attribute("data-title") for b in bar.locator(".modebar-btn").all()] == \
        ["Download plot as a PNG", "Reset axes"]

    # Before the first control after the maps (the "enlarge one" picker): the
    # six cards and one toolbar button each, nothing else of the figures.
    stops = tab_stops_until(page, "heat-pick")
    figure_stops = [s for s in stops if "modebar" in s]
    card_stops = [s for s in stops if "heat-cell" in s]
    assert len(figure_stops) == MAPS, "\n".join(stops)
    assert len(card_stops) == MAPS, "\n".join(stops)
    assert len(stops) <= 2 * MAPS + 2, "\n".join(stops)

    # Hidden until the pointer is over the figure; then shown above the image, not on it.
    group = bar.locator(".modebar-group")
    page.mouse.move(1, 1)
    page.wait_for_function("e => getComputedStyle(e).opacity === '0'", arg=group.element_handle())
    plot = plot_of(page, "heat-1")
    plot.scroll_into_view_if_needed()
    area = plot.locator(".nsewdrag").bounding_box()
    assert area is not None
    page.mouse.move(area["x"] + area["width"] / 2, area["y"] + area["height"] / 2)
    page.wait_for_function("e => getComputedStyle(e).opacity === '1'", arg=group.element_handle())
    shown = bar.bounding_box()
    assert shown is not None
    assert shown["y"] + shown["height"] <= area["y"] + 1, (shown, area)
    # The slot's title keeps its words clear of the toolbar.
    title = by_dash_id(page, index="heat-1", type="fig-title")
    title_box = title.evaluate("e => { const r = document.createRange(); r.selectNodeContents(e); "
                               "const b = r.getBoundingClientRect(); return {right: b.right}; }")
    assert title_box["right"] <= shown["x"] + 1, (title_box, shown)

    # A keyboard user reaching the toolbar sees it too.
    page.mouse.move(1, 1)
    page.wait_for_function("e => getComputedStyle(e).opacity === '0'", arg=group.element_handle())
    bar.locator(".modebar-btn").first.focus()
    page.wait_for_function("e => getComputedStyle(e).opacity === '1'", arg=group.element_handle())
