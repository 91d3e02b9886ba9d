"""Browser tests for the pages beyond the seed: class evidence and layer profile."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .helpers import by_dash_id, path_of, query_of, snap

pytestmark = pytest.mark.browser

SHA = re.compile(r"[?&]image=([0-9a-f]{64})")


def test_prediction_links_to_class_evidence_and_classes_switch(page: Page) -> None:
    page.goto("/prediction?layer=layer4.1.conv2")
    page.wait_for_url(SHA)
    links = page.locator("#prediction-evidence a.evidence-link")
    expect(links).to_have_count(5)
    second = links.nth(1)
    label = second.inner_text()
    second.click()
    page.wait_for_url(lambda url: path_of(url) == "/evidence" and "cls" in query_of(url))
    expect(page.locator("#evidence-title")).to_contain_text(label)
    # The evidence layer is its own choice: the last block by default, not the sidebar's conv.
    expect(page.locator("#evidence-title")).to_contain_text("layer4 (block)")
    graph = by_dash_id(page, index="evidence", type="fig")
    expect(graph.locator(".heatmaplayer image")).to_have_count(1)
    expect(page.locator("#evidence-top button")).to_have_count(5)
    snap(page, "19-class-evidence")

    # Another top-5 class, one click; the URL follows and the title changes.
    first_button = page.locator("#evidence-top button").first
    first_label = first_button.inner_text().split(" · ")[0]
    first_button.click()
    expect(page.locator("#evidence-title")).to_contain_text(first_label)
    page.wait_for_url(lambda url: query_of(url).get("cls") is not None and first_label not in label)

    # Grad-CAM++ by its radio: the method is in the URL and the title.
    page.locator("#evidence-method label", has_text="Grad-CAM++").click()
    page.wait_for_url(lambda url: query_of(url).get("cam") == "gradcam++")
    expect(page.locator("#evidence-title")).to_contain_text("Grad-CAM++")

    # Any of the 1000 classes through the searchable picker.
    page.locator("#evidence-class").click()
    page.locator("input.dash-dropdown-search").fill("goldfish")
    page.locator("[role=option]", has_text="goldfish").first.click()
    page.wait_for_url(lambda url: query_of(url).get("cls") == "1")
    expect(page.locator("#evidence-title")).to_contain_text("goldfish")

    # Hover answers like the heatmaps'.
    box = graph.locator(".nsewdrag").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(by_dash_id(page, index="evidence", type="fig-hover")).to_contain_text("percentile")


def test_layer_profile_shows_every_layer_and_opens_layers_and_filters(page: Page) -> None:
    page.goto("/profile")
    page.wait_for_url(SHA)
    rows = page.locator("#profile-table tbody tr")
    expect(rows).to_have_count(20)  # every conv layer of ResNet18
    expect(page.locator("#profile-sparsity .trace.boxes")).to_have_count(20)
    expect(page.locator("#profile-passing .trace.bars")).to_have_count(1)
    snap(page, "20-layer-profile")

    # A filter link opens that filter's detail page on that layer.
    link = page.locator("#profile-table tbody tr").nth(3).locator("a.profile-filter-link").first
    index = link.inner_text().lstrip("#")
    link.click()
    page.wait_for_url(lambda url: path_of(url) == "/detail" and query_of(url).get("filter") == index)
    expect(page.locator("#detail-title")).to_contain_text(f"Filter {index} of layer1.1.conv1")

    # Clicking a layer's bar opens the overview for that layer.
    page.goto("/profile")
    page.wait_for_url(SHA)
    bars = page.locator("#profile-passing .trace.bars .point")
    expect(bars).to_have_count(20)
    bars.nth(0).scroll_into_view_if_needed()
    bar = bars.nth(0).bounding_box()  # plotly's drag layer sits on top: click where the bar is
    assert bar is not None
    page.mouse.click(bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] * 0.75)
    page.wait_for_url(lambda url: path_of(url) == "/" and query_of(url).get("layer") == "conv1")
    expect(page.locator("#overview-cards")).to_contain_text("conv1")
