"""Small things a newcomer trips on: a stale "does not exist" message after
opening a filter that exists."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .helpers import query_of
from .test_pages import open_default

pytestmark = pytest.mark.browser


def test_a_refused_filter_message_goes_once_a_filter_is_open(page: Page) -> None:
    open_default(page, "/detail")
    expect(page.locator("#detail-title")).not_to_be_empty()
    index = page.locator("#detail-index")
    index.fill("500")
    index.press("Enter")
    expect(page.locator("#state-messages")).to_contain_text("500 does not exist")
    index.fill("5")
    index.press("Enter")
    page.wait_for_url(re.compile(r"[?&]filter=5(&|$)"))
    assert query_of(page.url)["filter"] == "5"
    expect(page.locator("#detail-title")).to_contain_text("5")
    expect(page.locator("#state-messages")).not_to_contain_text("does not exist")


def test_the_untrained_banner_folds_to_one_line_until_the_tab_is_closed(page: Page) -> None:
    open_default(page, "/heatmaps")
    banner = page.locator("#untrained-banner")
    expect(banner).to_contain_text("Untrained weights")
    expect(banner.locator(".banner-reason")).to_be_visible()
    line = page.evaluate("() => parseFloat(getComputedStyle(document.body).lineHeight) || 22")
    toggle = page.locator("#banner-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(banner.locator(".banner-reason")).to_be_hidden()
    box = banner.bounding_box()
    assert box is not None and box["height"] <= 2 * line + 16, (box, line)
    # Folded, never hidden: still there after a reload of the same tab.
    page.reload()
    expect(banner).to_contain_text("Untrained weights")
    expect(banner).to_be_visible()
    expect(banner.locator(".banner-reason")).to_be_hidden()
    expect(page.locator("#banner-toggle")).to_have_attribute("aria-expanded", "false")
    # A new tab starts with the whole banner again; unfolding brings it all back.
    other = page.context.new_page()
    other.goto(page.url)
    expect(other.locator("#untrained-banner .banner-reason")).to_be_visible()
    other.close()
    page.locator("#banner-toggle").click()
    expect(banner.locator(".banner-reason")).to_be_visible()
