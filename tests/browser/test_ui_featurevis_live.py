"""The Feature visualization page shows finished work at once: each tile
appears the moment its visualization is done (not when the whole job ends),
and Cancel says how many were finished and keeps them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from .helpers import JOB_TIMEOUT_MS, featurevis_site

pytestmark = pytest.mark.browser

FILTERS = 6
QUERY = f"model=resnet18&layer=layer1.0.conv1&n={FILTERS}"
CANCELLED = re.compile(r"Cancelled after (\d) of (\d)")


def test_tiles_arrive_one_by_one_and_cancel_keeps_them(browser: Browser, tmp_path: Path) -> None:
    # Several seconds a filter: the job is still running when its first tiles come in.
    with featurevis_site(browser, tmp_path, max_steps=320, max_size=48) as site:
        page = site.context.new_page()
        page.goto(f"/featurevis?image={site.sha}&{QUERY}")
        expect(page.locator(".fv-empty")).to_have_count(FILTERS)

        page.click("#fv-go")
        expect(page.locator("#fv-label")).to_contain_text("step")
        # Two tiles drawn while the job still runs (its Cancel button still shown).
        page.wait_for_function(
            """() => document.querySelectorAll('.fv-img').length >= 2 &&
                     getComputedStyle(document.getElementById('fv-cancel')).display !== 'none'""",
            timeout=JOB_TIMEOUT_MS)
        page.click("#fv-cancel")
        expect(page.locator("#fv-run")).to_be_hidden()
        expect(page.locator("#fv-status")).to_have_text(CANCELLED)
        match = CANCELLED.search(page.locator("#fv-status").inner_text())
        assert match
        done, total = int(match.group(1)), int(match.group(2))
        assert total == FILTERS and 2 <= done < FILTERS
        # What was finished stays on the page, and the rest says so.
        expect(page.locator(".fv-img")).to_have_count(done)
        expect(page.locator(".fv-empty")).to_have_count(FILTERS - done)
        for image in page.locator(".fv-img").all():
            expect(image).to_have_js_property("complete", True)
            assert image.evaluate("e => e.naturalWidth") == 48
        # And it is kept: a reload shows the same ones.
        page.reload()
        expect(page.locator(".fv-img")).to_have_count(done)
