"""The first visit: the served layout already holds the address's state and
its page (ui/layout/served.py), so the page's own callbacks are the first to
run; and when the layout could not know the address, or knew a wrong one, the
page still comes out as its address says. Every wait is on a condition."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Route, expect

from .helpers import callbacks, path_of, query_of

pytestmark = pytest.mark.browser

LAYER = "layer2.0.conv1"
URL_CALLBACK = "url-target.data"  # an output of the URL callback (ui/callbacks/url_sync.py)
ROUTER = "_pages_content.children"  # Dash's page router


def heatmaps_drawn(page: Page, layer: str, count: int) -> None:
    expect(page.locator("#heat-grid .heatmaplayer image")).to_have_count(count)
    expect(page.locator("#ctl-layer")).to_contain_text(layer)
    page.wait_for_function("() => new URLSearchParams(window.location.search).get('v') !== null")
    page.wait_for_load_state("networkidle")


def test_the_first_page_runs_its_own_callbacks_first_and_keeps_every_guarantee(page: Page) -> None:
    with callbacks(page) as seen:
        page.goto(f"/heatmaps?layer={LAYER}&n=7&colormap=Jet")
        expect(page.locator("#heat-grid .heatmaplayer image")).to_have_count(7)
        page.wait_for_load_state("networkidle")
    assert not [o for o in seen if URL_CALLBACK in o or ROUTER in o], seen
    # The address is the state, written out in full, and the controls show it.
    query = query_of(page.url)
    assert path_of(page.url) == "/heatmaps" and query["layer"] == LAYER and query["n"] == "7"
    assert query["colormap"] == "Jet" and query.get("image") and query.get("criterion") == "balanced"
    expect(page.locator("#ctl-n [role=slider]")).to_have_attribute("aria-valuenow", "7")
    # A control change lands in the address; another page and back again.
    page.locator("#ctl-criterion label").filter(has_text=re.compile(r"^max ")).click()
    page.wait_for_function("() => new URLSearchParams(window.location.search).get('criterion') === 'max'")
    page.wait_for_load_state("networkidle")
    page.evaluate("() => document.querySelector('a[href^=\"/grid\"]').click()")
    page.wait_for_function("() => window.location.pathname === '/grid'")
    expect(page.locator("[id='{\"index\":\"grid\",\"type\":\"fig\"}'] .js-plotly-plot")).to_have_count(1)
    assert query_of(page.url)["criterion"] == "max"
    page.go_back()
    page.wait_for_function("() => window.location.pathname === '/heatmaps'")
    expect(page.locator("#heat-grid .heatmaplayer image")).to_have_count(7)
    assert query_of(page.url)["criterion"] == "max" and query_of(page.url)["layer"] == LAYER


@pytest.mark.parametrize("cut", [True, False], ids=["referer-cut-to-origin", "no-referer"])
def test_a_layout_that_does_not_know_the_address_still_gives_its_page(page: Page, cut: bool) -> None:
    def send(route: Route) -> None:
        # Fetched by Playwright's own client (Chromium sets a Referer itself on what it sends).
        headers = {k: v for k, v in route.request.headers.items() if k.lower() != "referer"}
        if cut:  # the site's root: the layout is served for the Overview, with the default state
            headers["referer"] = route.request.url.rsplit("/", 1)[0] + "/"
        route.fulfill(response=route.fetch(headers=headers))

    page.route("**/_dash-layout", send)
    with callbacks(page) as seen:
        page.goto(f"/heatmaps?layer={LAYER}&n=5")
        heatmaps_drawn(page, LAYER, 5)
    # The address's own state and page, by the URL callback and the router as on any load.
    assert any(URL_CALLBACK in o for o in seen) and any(ROUTER in o for o in seen), seen
    assert path_of(page.url) == "/heatmaps"
    query = query_of(page.url)
    assert query["layer"] == LAYER and query["n"] == "5"
    expect(page.locator("h1")).to_contain_text("Heatmaps")
    expect(page.locator("#overview-cards")).to_have_count(0)
