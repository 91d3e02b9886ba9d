"""The Dataset page's scan bar once the scan is done: full, neither striped
nor moving (it stayed striped before)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .helpers import JOB_TIMEOUT_MS

pytestmark = pytest.mark.browser


def test_a_finished_scan_shows_a_full_plain_bar(page: Page) -> None:
    page.goto("/dataset")
    page.locator("#dataset-demo").click()
    page.wait_for_url(lambda url: "collection=" in url)
    page.locator("#dataset-scan").click()
    expect(page.locator("#dataset-status")).to_contain_text("Scanned: 22 images.", timeout=JOB_TIMEOUT_MS)
    bar = page.locator("#dataset-progress .progress-bar")
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(bar).not_to_have_class(re.compile(r"progress-bar-striped|progress-bar-animated"))
