"""Browser test of the Dataset page and the detail page's "Across the
collection": the demo collection, a scan with progress, filter cards with
lazily served crops, sorting, and the links into the filter detail."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .helpers import JOB_TIMEOUT_MS, path_of, query_of, snap
from .test_accessibility import axe_violations, describe

pytestmark = pytest.mark.browser

COLLECTION = re.compile(r"[?&]collection=([0-9a-f]{64})")


def test_demo_collection_scan_cards_and_links_into_the_detail(page: Page) -> None:
    page.goto("/dataset")
    expect(page.locator("#dataset-status")).to_contain_text("Choose or create a collection")
    page.locator("#dataset-demo").click()
    page.wait_for_url(COLLECTION)
    expect(page.locator("#dataset-upload-message")).to_contain_text("22 images")
    expect(page.locator("#dataset-status")).to_contain_text("Not scanned yet")

    page.locator("#dataset-scan").click()
    expect(page.locator("#dataset-status")).to_contain_text("Scanned: 22 images.", timeout=JOB_TIMEOUT_MS)
    cards = page.locator(".dataset-card")
    expect(cards).to_have_count(48)
    expect(cards.first.locator("img.crop-img")).to_have_count(8)  # sorted by peak: the first responds
    page.wait_for_function(
        "() => [...document.querySelectorAll('.dataset-card img.crop-img')]"
        ".every(i => i.complete && i.naturalWidth > 0)")
    snap(page, "30-dataset")
    violations = axe_violations(page)
    assert not violations, describe(violations)

    page.locator("#dataset-sort label", has_text="Class selectivity").click()
    # The cards come back ordered by selectivity (highest first) once the
    # grid has re-rendered; read the text whether or not the spinner shows.
    page.wait_for_function("""() => {
        const stats = [...document.querySelectorAll('.dataset-card .dataset-filter-stats')].slice(0, 6)
            .map(el => el.textContent.match(/selectivity (-?[0-9.]+)/)).map(m => m && parseFloat(m[1]));
        return stats.length === 6 && stats.every(v => v !== null)
            && stats.every((v, i) => i === 0 || stats[i - 1] >= v)
            && !document.querySelector('.dataset-card .dataset-filter-stats').textContent.startsWith('fires on 0%');
    }""")
    expect(cards.first).to_be_visible()
    link = cards.first.locator("a.dataset-filter-link")
    wanted = link.inner_text().split()[-1]
    link.click()
    page.wait_for_url(lambda url: path_of(url) == "/detail" and query_of(url).get("filter") == wanted)
    section = page.locator("#detail-collection")
    expect(section.locator("img.crop-img")).not_to_have_count(0)
    expect(section.locator("#detail-class-means .bars path")).to_have_count(7)
    page.wait_for_function("() => [...document.querySelectorAll('#detail-collection img.crop-img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    section.scroll_into_view_if_needed()
    snap(page, "31-detail-across-the-collection")
    violations = axe_violations(page)
    assert not violations, describe(violations)

    # A top example opens that image with the same filter.
    tile = section.locator("a.crop-link").nth(1)
    target = re.search(r"image=([0-9a-f]{64})", tile.get_attribute("href") or "").group(1)
    tile.click()
    page.wait_for_url(lambda url: query_of(url).get("image") == target and query_of(url).get("filter") == wanted)
    expect(page.locator("#detail-title")).to_contain_text(f"Filter {wanted}")
    assert COLLECTION.search(page.url)
