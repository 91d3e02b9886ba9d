"""Browser test of the Concepts page: collections made through the API, a
concept test run from the page (progress, then a chart per concept, the
findings, the aligned class images), a class image opening Class evidence,
the job still there when the page is opened again, axe-core, and the page
in English and Spanish at a desktop and a phone size."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.support.concept_api import files

from .helpers import JOB_TIMEOUT_MS, path_of, query_of, snap
from .test_accessibility import axe_violations, describe

pytestmark = pytest.mark.browser
NOTES = Path("/work/notes/screens")
SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


def upload(base: str, name: str, kind: str, count: int, offset: int = 0) -> str:
    sent = [("files", (file_name, data, "image/png")) for file_name, data in files(kind, count, offset)]
    answer = requests.post(f"{base}/api/collections", files=sent, data={"name": name}, timeout=120)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def choose(page: Page, dropdown: str, label: str) -> None:
    page.locator(f"#{dropdown}").click()
    option = page.locator("[role=listbox] [role=option]").filter(has_text=label)
    expect(option).to_have_count(1)
    option.click()
    expect(page.locator("[role=listbox]")).to_have_count(0)


def shoot(page: Page, name: str) -> None:
    """Both sizes: artifacts/screenshots (the suite's) and a copy in the notes."""
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        expect(page.locator(".concepts-figure .js-plotly-plot")).not_to_have_count(0)
        path = snap(page, f"{name}-{size}")
        if NOTES.parent.is_dir():
            NOTES.mkdir(exist_ok=True)
            shutil.copy(path, NOTES / path.name)
    page.set_viewport_size(SIZES["desktop"])


def test_a_concept_test_from_the_page(page: Page, live_server) -> None:
    upload(live_server.url, "striped", "striped", 6)
    upload(live_server.url, "class images", "noise", 3, 100)
    assert requests.post(f"{live_server.url}/api/collections?demo=1", timeout=120).status_code == 201
    page.goto("/concepts?cls=1")
    expect(page.locator("#concepts-status")).to_contain_text("press Test")
    expect(page.locator("#concepts-results")).to_contain_text("Results appear here")
    page.locator("#concepts-concepts label", has_text="striped").click()
    choose(page, "concepts-random", "Demo")
    choose(page, "concepts-images", "class images")
    page.locator("#concepts-runs").fill("3")
    expect(page.locator("#concepts-layers input:checked")).to_have_count(4)  # the default: one per stage
    page.locator("#concepts-test").click()
    expect(page.locator("#concepts-status")).to_contain_text(re.compile(r"Testing|Tested"))
    expect(page.locator("#concepts-status")).to_contain_text("Tested:", timeout=JOB_TIMEOUT_MS)

    section = page.locator(".concepts-concept")
    expect(section).to_have_count(1)
    expect(section.locator("h2")).to_contain_text("striped")
    expect(section.locator(".js-plotly-plot .trace.bars .point")).to_have_count(4)  # one bar per default layer
    expect(section.locator(".concepts-findings li")).not_to_have_count(0)
    expect(section.locator("a.concepts-aligned-link")).to_have_count(6)  # 3 class images, most and least aligned
    page.wait_for_function("() => [...document.querySelectorAll('.concepts-concept img.crop-img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    violations = axe_violations(page)
    assert not violations, describe(violations)
    shoot(page, "40-concepts-en")

    # A class image opens Class evidence for that image and the tested class.
    tile = section.locator("a.concepts-aligned-link").first
    image = re.search(r"image=([0-9a-f]{64})", tile.get_attribute("href") or "").group(1)
    tile.click()
    page.wait_for_url(lambda url: path_of(url) == "/evidence" and query_of(url).get("image") == image
                      and query_of(url).get("cls") == "1")

    # The job is still there when the page is opened again, now in Spanish.
    page.goto("/concepts?cls=1&lang=es")
    expect(page.locator("#concepts-status")).to_contain_text("Probado:")
    expect(page.locator("#concepts-concepts input:checked")).to_have_count(1)  # the test's own choices
    expect(page.locator("#concepts-runs")).to_have_value("3")
    expect(page.locator(".concepts-concept .js-plotly-plot .trace.bars .point")).to_have_count(4)
    page.wait_for_function("() => [...document.querySelectorAll('.concepts-concept img.crop-img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    violations = axe_violations(page)
    assert not violations, describe(violations)
    shoot(page, "41-concepts-es")
