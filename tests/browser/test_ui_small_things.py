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
