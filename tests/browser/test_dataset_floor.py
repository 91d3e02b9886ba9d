"""Browser test of the selectivity sort's minimum firing rate on the Dataset
page: by default the filters firing on fewer than 10 % of the images are left
out and the page says how many; a box sets the floor (0: none left out)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .helpers import JOB_TIMEOUT_MS, snap

pytestmark = pytest.mark.browser

COLLECTION = re.compile(r"[?&]collection=([0-9a-f]{64})")
LEFT_OUT = re.compile(r"^(\d+) filters? fires? on fewer than 10\s?% of the images")


def test_the_selectivity_sort_leaves_out_rare_filters_and_says_how_many(page: Page) -> None:
    page.goto("/dataset?layer=layer2.0.conv1")
    page.locator("#dataset-demo").click()
    page.wait_for_url(COLLECTION)
    status = page.locator("#dataset-status")
    expect(status).to_contain_text(re.compile("Not scanned yet|Scanned"))
    if "Scanned:" not in status.inner_text():
        page.locator("#dataset-scan").click()
    expect(status).to_contain_text("Scanned: 22 images.", timeout=JOB_TIMEOUT_MS)
    expect(page.locator("#dataset-min-firing")).to_have_value("10")
    expect(page.locator(".dataset-left-out")).to_have_count(0)  # the peak sort leaves none out

    page.locator("#dataset-sort label", has_text="Class selectivity").click()
    line = page.locator(".dataset-left-out")
    expect(line).to_have_text(LEFT_OUT, timeout=JOB_TIMEOUT_MS)
    left_out = int(LEFT_OUT.match(line.inner_text()).group(1))
    assert left_out > 0  # seeded random weights leave some filters nearly silent over 22 images
    # Every card shown fires on at least 10 % of the images, and the caption still counts the whole layer.
    rates = [int(m.group(1)) for text in page.locator(".dataset-filter-stats").all_inner_texts()
             if (m := re.match(r"fires on (\d+)", text))]
    assert rates and min(rates) >= 10
    expect(page.locator("#dataset-grid")).to_contain_text("48 of 128 filters")
    snap(page, "32-dataset-selectivity-floor")

    page.locator("#dataset-min-firing").fill("0")
    expect(line).to_have_count(0, timeout=JOB_TIMEOUT_MS)
