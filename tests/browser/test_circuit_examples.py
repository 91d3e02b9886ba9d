"""Top dataset examples on the Circuit and Building blocks cards: with the
view's collection scanned, each neighbour's card shows the top examples of
the layer that neighbour lives in, the same images in the same order as
``GET /api/collections/<id>/top`` answers for that unit, each a link that
opens that image at that unit; unscanned with the model, one hint instead."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from playwright.sync_api import Locator, Page, expect

from devtools.processes import wait_for

from .helpers import JOB_TIMEOUT_MS, query_of, snap
from .test_accessibility import axe_violations, describe
from .walked import drawn

pytestmark = pytest.mark.browser
CROP = re.compile(r"/api/crops/([0-9a-f]{64})\.jpg")
SHOWN = 3  # service.circuits.EXAMPLES
EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"


def scanned_collection(page: Page) -> str:
    """A collection of the bundled photos, scanned with ResNet18 (here or by
    an earlier test); its id. Not the demo collection: test_dataset.py
    follows the demo's first scan on the same server."""
    page.goto("/dataset?model=resnet18&layer=layer2.0.conv1&lang=en")
    base = page.evaluate("location.origin")
    photos = sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".png", ".jpg"))
    sent = [("files", (photo.name, photo.read_bytes(), "application/octet-stream")) for photo in photos]
    answer = requests.post(f"{base}/api/collections", files=sent, data={"name": "circuit examples"}, timeout=120)
    assert answer.status_code in (200, 201), answer.text
    collection = answer.json()["id"]
    scan = f"{base}/api/collections/{collection}/scan?model=resnet18"
    if requests.get(scan, timeout=120).json()["state"] != "done":
        started = requests.post(scan, timeout=120)
        assert started.status_code in (200, 202), started.text
    # Polled from here: page.wait_for_function takes an async predicate's
    # promise for a truthy answer and returned before the scan was done.
    wait_for(lambda: requests.get(scan, timeout=120).json()["state"] == "done", JOB_TIMEOUT_MS / 1000,
             "the collection's scan to finish", interval=0.5)
    return str(collection)


def unit_of(href: str) -> tuple[str, int]:
    query = parse_qs(urlsplit(href).query)
    return query["layer"][0], int(query["filter"][0])


def expected(page: Page, collection: str, layer: str, channel: int) -> list[str]:
    """The dataset API's top images for the unit where it responds at all, as the Dataset page shows them."""
    answer = page.request.get(f"/api/collections/{collection}/top?model=resnet18&layer={layer}&filter={channel}")
    assert answer.ok, answer.text()
    return [row["image"] for row in answer.json() if row["value"] > 0][:SHOWN]


def check_cards(page: Page, collection: str, cards: Locator, link: str) -> int:
    """Every card's thumbnails against the API's answer for its unit; how many cards showed some."""
    with_examples = 0
    for i in range(cards.count()):
        item = cards.nth(i)
        if item.locator(f"a.{link}").count() == 0:
            continue  # the image, or an identity path: nowhere to walk, nothing scanned
        layer, channel = unit_of(item.locator(f"a.{link}").get_attribute("href") or "")
        wanted = expected(page, collection, layer, channel)
        tiles = item.locator(".circuit-examples a.crop-link")
        expect(tiles).to_have_count(len(wanted))
        shown = [CROP.search(tiles.nth(j).locator("img").get_attribute("src") or "").group(1)
                 for j in range(len(wanted))]
        assert shown == wanted, (layer, channel)
        for j, image in enumerate(wanted):
            target = query_of(tiles.nth(j).get_attribute("href") or "")
            assert (target["image"], target["layer"], int(target["filter"])) == (image, layer, channel)
        with_examples += bool(wanted)
    return with_examples


def test_circuit_and_blocks_cards_show_the_units_top_examples(page: Page) -> None:
    collection = scanned_collection(page)
    page.goto(f"/circuit?model=resnet18&layer=layer2.0.conv1&filter=7&collection={collection}&lang=en")
    expect(page.locator(drawn("/circuit")).first).to_be_attached()
    expect(page.locator(".circuit-examples").first).to_be_attached()
    expect(page.locator(".circuit-examples-hint")).to_have_count(0)
    inputs = check_cards(page, collection, page.locator("li.circuit-inputs"), "circuit-inputs-link")
    outputs = check_cards(page, collection, page.locator("li.circuit-outputs"), "circuit-outputs-link")
    assert inputs and outputs  # the inputs live in layer1.1.conv2, the outputs in layer2.0.conv2
    page.wait_for_function("() => [...document.querySelectorAll('.circuit-examples img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    snap(page, "circuit-examples")
    violations = axe_violations(page)
    assert not violations, describe(violations)

    tile = page.locator("li.circuit-inputs .circuit-examples a.crop-link").first
    target = query_of(tile.get_attribute("href") or "")
    tile.click()
    page.wait_for_url(lambda url: query_of(url).get("image") == target["image"]
                      and query_of(url).get("filter") == target["filter"])
    expect(page.locator("#detail-title")).to_contain_text(f"Filter {target['filter']}")

    page.goto(f"/blocks?model=resnet18&elayer=layer4&cls=281&collection={collection}&lang=en")
    expect(page.locator(drawn("/blocks")).first).to_be_attached()
    assert check_cards(page, collection, page.locator("li.blocks-card"), "blocks-link")
    page.wait_for_function("() => [...document.querySelectorAll('.circuit-examples img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    snap(page, "blocks-examples")


def test_unscanned_with_the_model_a_hint_and_no_thumbnails(page: Page) -> None:
    collection = scanned_collection(page)  # scanned with ResNet18, not with AlexNet
    page.goto(f"/circuit?model=alexnet&layer=features.3&filter=2&collection={collection}&lang=en")
    expect(page.locator(drawn("/circuit")).first).to_be_attached()
    expect(page.locator(".circuit-examples-hint")).to_contain_text("Scan the collection")
    expect(page.locator(".circuit-examples")).to_have_count(0)
    page.goto("/circuit?model=resnet18&layer=layer2.0.conv1&filter=7&lang=en")  # no collection: neither
    expect(page.locator(drawn("/circuit")).first).to_be_attached()
    expect(page.locator(".circuit-examples-hint")).to_have_count(0)
    expect(page.locator(".circuit-examples")).to_have_count(0)
