"""The heatmaps lead somewhere: a click on a map, or Enter on a focused map
card, opens that filter's detail page, with ``filter=`` in the address."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from .helpers import by_dash_id, path_of, query_of
from .test_pages import box_centre, open_default, plot_of, wait_for_heatmaps

pytestmark = pytest.mark.browser

TITLE = re.compile(r"#(\d+) · filter (\d+)")


def filter_of_rank(page: Page, rank: int) -> str:
    title = by_dash_id(page, index=f"heat-{rank}", type="fig-title")
    expect(title).to_have_text(TITLE)
    match = TITLE.search(title.inner_text())
    assert match and match.group(1) == str(rank)
    return match.group(2)


def test_click_on_a_map_opens_its_filter(page: Page) -> None:
    open_default(page, "/heatmaps")
    wait_for_heatmaps(page)
    wanted = filter_of_rank(page, 2)
    x, y = box_centre(plot_of(page, "heat-2").locator(".nsewdrag"))
    page.mouse.move(x - 5, y - 5)
    page.mouse.click(x, y)
    page.wait_for_url(re.compile(r"/detail\?.*filter=" + wanted + r"(&|$)"))
    assert path_of(page.url) == "/detail" and query_of(page.url)["filter"] == wanted
    expect(page.locator("#detail-title")).to_contain_text(wanted)


def test_enter_on_a_focused_map_card_opens_its_filter(page: Page) -> None:
    open_default(page, "/heatmaps")
    wait_for_heatmaps(page)
    wanted = filter_of_rank(page, 3)
    card = page.locator("[id='" + json.dumps({"index": 3, "type": "heat-cell"}, separators=(",", ":")) + "']")
    card.focus()
    expect(card).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/detail\?.*filter=" + wanted + r"(&|$)"))
    assert query_of(page.url)["filter"] == wanted
