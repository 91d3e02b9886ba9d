"""Maps on a phone (issue 24): at 390×844 a map figure takes its picture's
aspect instead of a fixed height, so no empty band lies above or below the
picture (assets/js/dashapp.js fittedHeight, style.css --fit-aspect); at
1440×900 the heights are as they were. On a touch screen Plotly's mode bar
sits above the picture, not on it, and the navbar is one row in Spanish too."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from dashapp.i18n import app_name, speaking

from .conftest import LiveServer
from .helpers import SELECTED, TIMEOUT_MS, dash_id
from .test_pages import open_default

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1440, "height": 900}
REGIONS = "#detail-regions"
# page -> its map graphs (a CSS selector of each dcc.Graph) and the height each has on a wide screen
MAPS = {
    "/detail": {REGIONS: 420, f"[id='{dash_id(index='detail-heat', type='fig')}']": 420},
    "/heatmaps": {f"[id='{dash_id(index='heat-big', type='fig')}']": 520},
    "/evidence": {f"[id='{dash_id(index='evidence', type='fig')}']": 520},
}
# The picture under a map: the figure's layout image, stretched over the image's pixel ranges.
PICTURE = ".js-plotly-plot .imagelayer image"


def open_maps(page: Page, path: str) -> None:
    """Open ``path`` with a filter and a class chosen and wait until each of its maps has its picture drawn."""
    open_default(page, path)
    page.goto(path + "?" + page.url.split("?", 1)[1] + SELECTED)
    for graph in MAPS[path]:
        expect(page.locator(f"{graph} {PICTURE}")).to_have_count(1)


def measure(page: Page, graph: str) -> dict[str, Any]:
    """The graph's box, its picture's box, and the image's size (the figure's meta)."""
    return page.eval_on_selector(
        graph,
        """(el, picture) => {
            const gd = el.querySelector(".js-plotly-plot"), meta = gd.layout.meta;
            const box = el.getBoundingClientRect(), drawn = el.querySelector(picture).getBoundingClientRect();
            return {width: box.width, height: box.height, pictureWidth: drawn.width, pictureHeight: drawn.height,
                    pictureTop: drawn.top, imageWidth: meta.width, imageHeight: meta.height};
        }""",
        PICTURE.removeprefix(".js-plotly-plot "),
    )


@pytest.mark.parametrize("path", list(MAPS))
def test_on_a_phone_a_map_takes_its_pictures_aspect(page: Page, path: str) -> None:
    page.set_viewport_size(PHONE)
    open_maps(page, path)
    for graph, wide_height in MAPS[path].items():
        m = measure(page, graph)
        aspect = m["imageHeight"] / m["imageWidth"]
        assert m["height"] < wide_height, f"{graph} on {path} kept its {wide_height} px at {m['width']} px wide"
        # The graph is as tall as the picture at its width: no band above or below it.
        assert abs(m["height"] - m["width"] * aspect) <= 3, (graph, m)
        assert abs(m["pictureHeight"] - m["height"]) <= 3, (graph, m)
        assert abs(m["pictureWidth"] - m["width"]) <= 3, (graph, m)


def test_on_a_wide_screen_the_maps_keep_their_heights(page: Page) -> None:
    page.set_viewport_size(WIDE)
    for path, graphs in MAPS.items():
        open_maps(page, path)
        for graph, height in graphs.items():
            assert measure(page, graph)["height"] == height, (path, graph)


def test_on_a_touch_phone_the_mode_bar_is_above_the_picture(browser: Browser, live_server: LiveServer) -> None:
    touch = browser.new_context(base_url=live_server.url, viewport=PHONE, has_touch=True, is_mobile=True)
    touch.set_default_timeout(TIMEOUT_MS)
    try:
        page = touch.new_page()
        open_maps(page, "/detail")
        for graph in MAPS["/detail"]:
            bar = page.locator(f"{graph} .modebar")
            expect(bar).to_be_visible()  # no hover on a touch screen: plotly.js shows it always
            box = bar.bounding_box()
            assert box is not None
            top = measure(page, graph)["pictureTop"]
            # (1 px: the bar's transparent edge, as in test_ui_toolbar.py on a wide screen)
            assert box["y"] + box["height"] <= top + 1, f"the mode bar of {graph} covers the picture"
    finally:
        touch.close()


@pytest.mark.parametrize("lang", ["en", "es"])
def test_on_a_phone_the_navbar_is_one_row(page: Page, lang: str) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"/heatmaps?lang={lang}")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    navbar = page.locator(".app-navbar")
    expect(page.locator("#nav-toggle")).to_be_visible()
    box = navbar.bounding_box()
    assert box is not None and box["height"] < 70, f"the navbar is {box} tall in {lang}"
    # A long name may end in "…" on screen: the link's title says it whole.
    brand = page.locator(".app-navbar .navbar-brand")
    with speaking(lang):  # the name in the server's catalog, not a copy of it here
        name = app_name()
    expect(brand).to_have_attribute("title", name)
    expect(brand.locator(".brand-name")).to_have_text(name)
