"""A sanity check asked for while the server's slots are all taken: the page
says at once that it is queued, then shows the result once a slot frees (the
app runs in this process, so the test holds the slots itself)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from dashapp.service import evidence as service_evidence

from .helpers import JOB_TIMEOUT_MS, snap

pytestmark = pytest.mark.browser


def test_a_queued_sanity_check_says_so_then_shows_its_result(page: Page) -> None:
    page.goto("/evidence?model=resnet18&cls=7&elayer=layer3")  # a check no other test runs
    expect(page.locator("#evidence-title")).to_contain_text("at layer3 (block)")
    expect(page.locator("#evidence-sanity")).to_contain_text("Not run yet")
    held = 0
    while service_evidence._SANITY_SLOTS.acquire(blocking=False):
        held += 1
    try:
        page.locator("#evidence-sanity-run").click()
        queue = page.locator("#evidence-sanity-queue")
        expect(queue).to_contain_text("Queued: another sanity check is running on the server")
        assert queue.get_attribute("role") == "status" and queue.get_attribute("aria-live") == "polite"
        expect(page.locator("#evidence-sanity")).to_contain_text("Not run yet")  # nothing computed meanwhile
        snap(page, "25-evidence-sanity-queued", full_page=False)
    finally:
        for _ in range(held):
            service_evidence._SANITY_SLOTS.release()
    verdict = page.locator("#evidence-sanity .sanity-verdict")
    expect(verdict).to_contain_text("rank correlation", timeout=JOB_TIMEOUT_MS)
    expect(page.locator("#evidence-sanity-queue")).to_have_text("")
