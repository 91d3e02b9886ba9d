"""The Feature visualization page under gunicorn: the top filters' tiles, the
background job with step, preview and cancel, the untrained-weights note,
and the filter detail page's visualization beside its kernel."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from .helpers import CHROMIUM, JOB_TIMEOUT_MS, featurevis_site, snap

pytestmark = pytest.mark.browser

QUERY = "model=resnet18&layer=layer1.0.conv1&n=3"


def test_featurevis_page_computes_top_filters_with_progress_and_cancel(browser: Browser, tmp_path: Path) -> None:
    assert CHROMIUM.exists()
    # Long enough to see the job run and cancel it on an idle machine
    # (3 filters x 256 steps), short enough for a test.
    with featurevis_site(browser, tmp_path, max_steps=256, max_size=64) as site:
        context, sha = site.context, site.sha
        context.add_init_script("""
            window.__steps = [];
            window.__stale = null;  // the cancelled job's last label, until the next job overwrites it
            new MutationObserver(() => {
              const label = document.getElementById("fv-label");
              if (label && label.textContent === window.__stale) { return; }
              const m = label && label.textContent.match(/filter (\\d+).*step (\\d+) of (\\d+)/);
              if (m) { window.__steps.push([Number(m[1]), Number(m[2])]); }
            }).observe(document, {subtree: true, childList: true, characterData: true});
        """)
        page = context.new_page()
        page.goto(f"/featurevis?image={sha}&{QUERY}")
        tiles = page.locator(".fv-tile")
        expect(tiles).to_have_count(3)
        expect(page.locator(".fv-empty")).to_have_count(3)
        expect(page.locator("#fv-notice")).to_contain_text("not a learned feature")

        # Start, watch a step or two go by with a preview, then cancel.
        page.click("#fv-go")
        expect(page.locator("#fv-label")).to_contain_text("step")
        expect(page.locator("#fv-preview")).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
        snap(page, "30-featurevis-running")
        expect(page.locator("#fv-cancel")).to_be_visible()
        page.click("#fv-cancel")
        expect(page.locator("#fv-run")).to_be_hidden()
        expect(page.locator("#fv-go")).to_be_enabled()
        page.evaluate("window.__steps = []; window.__stale = document.getElementById('fv-label').textContent")

        # Run to the end: every tile gets its image, served from the shared cache.
        page.click("#fv-go")
        expect(page.locator(".fv-img")).to_have_count(3, timeout=JOB_TIMEOUT_MS)
        expect(page.locator(".fv-empty")).to_have_count(0)
        for image in page.locator(".fv-img").all():
            expect(image).to_have_js_property("naturalWidth", 64)
        steps = page.evaluate("window.__steps")
        # The cancelled job's last progress may still arrive (its step, or a
        # later one of the same filter) until the new job's first step, which
        # starts again from the beginning, replaces it: not the new job's.
        stale = re.search(r"filter (\d+).*step (\d+) of", page.evaluate("window.__stale") or "")
        if stale:
            unit, step = int(stale.group(1)), int(stale.group(2))
            steps = list(itertools.dropwhile(lambda entry: entry[0] == unit and entry[1] >= step, steps))
        assert steps, "no step was ever shown"
        for (unit, step), (next_unit, next_step) in itertools.pairwise(steps):
            assert next_unit != unit or next_step >= step, steps
        snap(page, "31-featurevis-done")

        # The detail page shows the top filter's visualization beside its kernel pattern.
        first = page.locator(".fv-tile figcaption strong").first.inner_text().split("filter ")[1]
        page.goto(f"/detail?image={sha}&{QUERY}&filter={first}")
        expect(page.locator("#detail-fv img")).to_have_count(1)
        expect(page.locator("#detail-fv")).to_contain_text("not a learned feature")
        snap(page, "32-detail-featurevis")
