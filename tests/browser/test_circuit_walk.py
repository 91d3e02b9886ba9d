"""Circuit: a walk three steps up the network and back down by clicks
restores the URL and the view; Building blocks links into it."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from .walked import drawn

pytestmark = pytest.mark.browser
SHA = re.compile(r"[?&]image=([0-9a-f]{64})")


def unit(url: str) -> tuple[str, str]:
    query = parse_qs(urlsplit(url).query)
    return query["layer"][0], query["filter"][0]


def settled(page: Page, layer: str, index: str) -> str:
    """Wait until the page shows unit (layer, filter); its title."""
    title = page.locator(".circuit-title")
    expect(title).to_have_text(re.compile(rf"^{re.escape(layer)} · filter {index}$"))
    expect(page.locator(drawn("/circuit")).first).to_be_attached()
    # The DOM's text, not the rendered one: a later redraw of the same unit
    # (under load it can start now) hides the content while it loads.
    return title.text_content() or ""


def test_three_steps_up_and_back_down_restore_url_and_view(page: Page) -> None:
    page.goto("/circuit?layer=layer2.0.conv1&filter=7&lang=en")  # the links keep the language
    page.wait_for_url(SHA)
    start_title = settled(page, "layer2.0.conv1", "7")
    # Every neighbour: the way back down is always listed.
    page.locator("#circuit-k").get_by_text("all", exact=True).click()
    expect(page.locator(".circuit-outputs")).to_have_count(128)
    start_url = page.url
    start_value = page.locator(".circuit-value").text_content() or ""
    walked = [(start_url, start_title)]
    for _step in range(3):  # up: the input that feeds the unit most at its peak
        link = page.locator("a.circuit-inputs-link").first
        layer, index = unit(link.get_attribute("href") or "")
        link.click()
        page.wait_for_url(lambda url, layer=layer, index=index: unit(url) == (layer, index))
        walked.append((page.url, settled(page, layer, index)))
    assert [unit(url)[0] for url, _ in walked] == ["layer2.0.conv1", "layer1.1.conv2", "layer1.1.conv1",
                                                   "layer1.0.conv2"]
    for url, title in reversed(walked[:-1]):  # down: the output that is the unit we came from
        layer, index = unit(url)
        page.locator(f'a.circuit-outputs-link[href*="layer={layer}&"][href*="&filter={index}&"]').click()
        page.wait_for_url(lambda now, layer=layer, index=index: unit(now) == (layer, index))
        assert settled(page, layer, index) == title
    assert page.url == start_url
    expect(page.locator(".circuit-value")).to_have_text(start_value)
    page.go_back()  # the browser's history holds the walk too
    page.wait_for_url(lambda url: unit(url) == unit(walked[1][0]))


def test_blocks_cards_open_the_circuit_of_their_channel(page: Page) -> None:
    page.goto("/blocks?elayer=layer4&cls=281")
    page.wait_for_url(SHA)
    expect(page.locator(drawn("/blocks")).first).to_be_attached()
    expect(page.locator(".blocks-title")).to_contain_text("layer4")
    link = page.locator("a.blocks-link").first
    index = re.sub(r"\D", "", link.inner_text())
    link.click()
    page.wait_for_url(lambda url: "/circuit" in url and unit(url) == ("layer4.1.conv2", index))
    settled(page, "layer4.1.conv2", index)
