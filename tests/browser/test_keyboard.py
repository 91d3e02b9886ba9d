"""The main flow with the keyboard only: skip link, an example image, another
layer, a filter from the table, a region of that filter. Every step is Tab,
arrows and Enter; every wait is on a condition."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .helpers import path_of, query_of, snap

pytestmark = pytest.mark.browser

SHA = re.compile(r"[?&]image=([0-9a-f]{64})")
LAYER = "layer3.0.conv1"

FOCUSED = """() => {
    const e = document.activeElement;
    const style = getComputedStyle(e);
    return {id: e.id || "", tag: e.tagName, role: e.getAttribute("role") || "",
            name: (e.getAttribute("aria-label") || e.textContent || "").trim().slice(0, 80),
            outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
            cls: (e.className || "").toString()};
}"""


def focused(page: Page) -> dict[str, Any]:
    return page.evaluate(FOCUSED)


def tab_until(page: Page, wanted: Callable[[dict[str, Any]], bool], what: str, limit: int = 120) -> dict[str, Any]:
    """Press Tab until the focused element is ``wanted``; fail with the path taken."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if wanted(now):
            return now
        seen.append(f"{now['tag']}#{now['id']} {now['name'][:30]!r}")
    pytest.fail(f"Tab never reached {what}; it went through:\n" + "\n".join(seen[-40:]))


def assert_focus_ring(element: dict[str, Any]) -> None:
    assert element["outline"] != "none" and element["outlineWidth"] >= 2, f"no visible focus ring on {element}"


def test_main_flow_with_keys_only(page: Page) -> None:
    page.goto("/")
    page.wait_for_url(SHA)
    first_image = SHA.search(page.url).group(1)  # type: ignore[union-attr]
    expect(page.locator("#overview-table .ag-center-cols-container .ag-cell").first).to_be_attached()

    # 1. The first Tab stop is "Skip to content"; then the navbar, then the sidebar.
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "skip-link"
    nav = tab_until(page, lambda e: e["name"] == "Overview" and "nav-link" in e["cls"], "the navbar")
    assert_focus_ring(nav)

    # 2. An example image by arrow keys on the picker.
    tab_until(page, lambda e: e["id"] == "ctl-example", "the example picker")
    for _ in range(5):
        page.keyboard.press("ArrowDown")
        if page.eval_on_selector("#ctl-example", "e => e.value") not in ("", "chelsea.png"):
            break
    page.wait_for_url(lambda url: SHA.search(url) is not None and SHA.search(url).group(1) != first_image)

    # 3. Another layer: the dropdown opens with Enter, Home reaches its search, Enter picks.
    layer_button = tab_until(page, lambda e: e["id"] == "ctl-layer", "the layer dropdown")
    assert layer_button["tag"] == "BUTTON"
    assert_focus_ring(layer_button)
    page.keyboard.press("Enter")
    expect(page.locator("[role=listbox]")).to_be_visible()
    # Opening puts focus on the selected option (once the list is drawn).
    page.wait_for_function("() => document.activeElement.closest('[role=listbox]') !== null")
    page.keyboard.press("Home")  # from the selected option up to the search box
    assert focused(page)["cls"] == "dash-dropdown-search"
    page.keyboard.type(LAYER)
    expect(page.locator("[role=listbox] [role=option]")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: query_of(url).get("layer") == LAYER)
    expect(page.locator("[role=listbox]")).to_have_count(0)
    expect(page.locator("#ctl-layer")).to_contain_text(LAYER)

    # 4. A filter from the overview table: its row opens with Enter.
    expect(page.locator("#overview-cards")).to_contain_text(LAYER)
    row = tab_until(page, lambda e: e["role"] == "gridcell" and "ag-cell" in e["cls"], "a table row")
    assert_focus_ring(row)
    index = row["name"]  # the first column: the filter's number
    assert index.isdecimal(), row
    snap(page, "30-keyboard-focus-table-row", full_page=False)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: path_of(url) == "/detail" and query_of(url).get("filter") == index)
    expect(page.locator("#detail-title")).to_contain_text(f"Filter {index} of {LAYER}")

    # 5. A region of that filter, by its button beside the picture.
    region = tab_until(page, lambda e: e["name"].startswith("Region 1"), "the first region's button")
    assert_focus_ring(region)
    page.keyboard.press("Enter")
    expect(page.locator("#region-card")).to_contain_text("Region 1")
    snap(page, "31-keyboard-region", full_page=False)


def test_skip_link_is_first_shows_when_focused_and_moves_focus_to_the_page(page: Page) -> None:
    page.goto("/prediction")
    page.wait_for_url(SHA)
    expect(page.locator("#skip-link")).not_to_be_in_viewport()
    page.keyboard.press("Tab")
    skip = focused(page)
    assert skip["id"] == "skip-link" and skip["name"] == "Skip to content"
    assert_focus_ring(skip)
    expect(page.locator("#skip-link")).to_be_in_viewport()
    snap(page, "32-keyboard-skip-link", full_page=False)
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main-content"
    assert path_of(page.url) == "/prediction"
    # The next Tab stop is inside the page, not back in the navbar or the sidebar.
    page.keyboard.press("Tab")
    inside = page.evaluate("() => document.getElementById('main-content').contains(document.activeElement)")
    assert inside, focused(page)
