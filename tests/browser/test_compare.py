"""The Compare page in a real browser: two images side by side at one layer,
each pair of maps on one colour scale, details for either side, and the
sidebar's second choice."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from .helpers import EXAMPLES, path_of, query_of, snap

pytestmark = pytest.mark.browser

# Every drawn heatmap of one filter pair: its colour-scale numbers and picture.
PAIR_MAPS = """
(pair) => Array.from(pair.querySelectorAll('.js-plotly-plot')).map((gd) => ({
    zmin: gd.data[0].zmin, zmax: gd.data[0].zmax, colorscale: JSON.stringify(gd._fullData[0].colorscale),
    top: gd.layout.meta.zmax, scale: gd.layout.meta.scale, filter: gd.layout.meta.filter,
    picture: (gd.layout.images && gd.layout.images[0] && gd.layout.images[0].source || '').slice(-80),
    drawn: gd.querySelectorAll('.heatmaplayer image').length,
}))
"""


def upload(page: Page, name: str) -> str:
    answer = page.request.post("/api/images", data=(EXAMPLES / name).read_bytes(),
                               headers={"Content-Type": "image/png"})
    assert answer.status == 201, answer.text()
    return str(answer.json()["sha256"])


def test_a_compare_link_draws_both_images_maps_on_one_colour_scale(page: Page) -> None:
    cat, cup = upload(page, "chelsea.png"), upload(page, "coffee.png")
    page.goto(f"/compare?image={cat}&image2={cup}&model=resnet18&layer=layer3.0.conv1&n=3")
    pairs = page.locator(".cmp-filter")
    expect(pairs).to_have_count(3)
    expect(page.locator(".cmp-side-a")).to_contain_text("chelsea")
    expect(page.locator(".cmp-side-b")).to_contain_text("coffee")
    expect(page.locator(".cmp-side-a .cmp-prediction li")).to_have_count(3)
    expect(page.locator(".cmp-side-b .cmp-prediction li")).to_have_count(3)
    expect(page.locator(".cmp-stats tbody tr")).to_have_count(4)
    for i in range(3):
        pair = pairs.nth(i)
        expect(pair.locator(".heatmaplayer image")).to_have_count(2)  # both maps drawn
        a, b = pair.evaluate(PAIR_MAPS)
        assert a["drawn"] == b["drawn"] == 1 and a["filter"] == b["filter"] == int(pair.get_attribute("data-filter"))
        # One colour scale: the same range in response units, the same levels and colours.
        assert a["top"] == pytest.approx(b["top"], rel=1e-9) and a["top"] > 0
        assert a["top"] == pytest.approx(float(pair.get_attribute("data-zmax")), rel=1e-5)
        assert (a["zmin"], a["zmax"], a["colorscale"]) == (b["zmin"], b["zmax"], b["colorscale"])
        assert a["scale"] == b["scale"]
        # Each side over its own image: B carries the second picture.
        assert a["picture"] != b["picture"]
    # Both profiles overlaid: two box traces per figure.
    expect(page.locator("#cmp-profile-mean g.trace.boxes")).to_have_count(2)
    traces = page.locator("#cmp-profile-mean .js-plotly-plot").evaluate("(gd) => gd.data.map((t) => t.name)")
    assert len(traces) == 2 and "chelsea" in traces[0] and "coffee" in traces[1]
    snap(page, "30-compare")

    # A filter's detail for the second image: the sides swap, the filter stays.
    index = pairs.first.get_attribute("data-filter")
    pairs.first.locator("a.cmp-detail-b").click()
    page.wait_for_url(lambda url: path_of(url) == "/detail")
    query = query_of(page.url)
    assert (query["image"], query["image2"], query["filter"], query["layer"]) == (cup, cat, index, "layer3.0.conv1")
    expect(page.locator(".page-error")).to_have_count(0)


def test_the_sidebar_offers_the_second_choice(page: Page) -> None:
    cat = upload(page, "chelsea.png")
    page.goto(f"/compare?image={cat}&layer=layer1.0.conv1&n=2")
    expect(page.locator("#cmp-notice")).to_contain_text("No second image chosen")
    expect(page.locator(".cmp-filter")).to_have_count(2)
    rocket = page.locator("#ctl-image2 option", has_text="rocket").get_attribute("value")
    page.locator("#ctl-image2").select_option(rocket)
    page.wait_for_url(lambda url: query_of(url).get("image2") == rocket)
    expect(page.locator(".cmp-side-b")).to_contain_text("rocket")
    expect(page.locator("#cmp-notice .alert")).to_have_count(0)

    # An upload as the second image: stored, offered in the picker, in the URL.
    cup = upload(page, "coffee.png")  # its id (the same bytes give the same id)
    page.locator("#ctl-upload2 input[type=file]").set_input_files(str(EXAMPLES / "coffee.png"))
    page.wait_for_url(lambda url: query_of(url).get("image2") == cup)
    expect(page.locator("#ctl-image2 option", has_text="Upload: coffee.png")).to_have_count(1)
    expect(page.locator(".cmp-side-b")).to_contain_text("coffee")  # an example's bytes keep its name



def test_an_uploaded_second_image_is_named_by_its_file(page: Page, tmp_path: Path) -> None:
    cat = upload(page, "chelsea.png")
    page.goto(f"/compare?image={cat}&layer=layer1.0.conv1&n=1")
    expect(page.locator(".cmp-filter")).to_have_count(1)
    picture = tmp_path / "my holiday.png"
    Image.new("RGB", (64, 48), (200, 40, 90)).save(picture)  # bytes of no example
    page.locator("#ctl-upload2 input[type=file]").set_input_files(str(picture))
    page.wait_for_url(lambda url: len(query_of(url).get("image2", "")) == 64)
    expect(page.locator(".cmp-side-b")).to_contain_text("my holiday · resnet18")
    expect(page.locator(".cmp-side-b")).not_to_contain_text("image ")


def test_one_image_under_two_architectures(page: Page) -> None:
    cat = upload(page, "chelsea.png")
    page.goto(f"/compare?image={cat}&model=resnet18&layer=layer1.0.conv1&n=2")
    expect(page.locator(".cmp-filter")).to_have_count(2)
    # Each choice once, the page's own model not among them (it would compare nothing).
    options = page.locator("#ctl-model2 option:not([hidden])").all_inner_texts()
    assert options == ["second model: the same", "second model: alexnet"]
    assert page.locator("#ctl-model2 option[hidden]").inner_text() not in options

    page.locator("#ctl-model2").select_option("alexnet")
    page.wait_for_url(lambda url: query_of(url).get("model2") == "alexnet")
    # Both predictions, both models' evidence for one class, both layer profiles; no error.
    expect(page.locator(".cmp-side-b")).to_contain_text("alexnet")
    expect(page.locator(".cmp-side-a .cmp-prediction li")).to_have_count(3)
    expect(page.locator(".cmp-side-b .cmp-prediction li")).to_have_count(3)
    evidence = page.locator(".cmp-evidence")
    expect(evidence.locator(".heatmaplayer image")).to_have_count(2)
    title = evidence.locator(".cmp-evidence-title").inner_text()
    label = re.search(r"“(.+)”", title)
    assert label, title
    a, b = evidence.locator(".js-plotly-plot").evaluate_all(
        "(gds) => gds.map((gd) => gd.layout.meta.description)")
    assert label.group(1) in a and label.group(1) in b and "resnet18" in a and "alexnet" in b
    expect(evidence.locator(".slot-title").first).to_contain_text("A: resnet18 · layer4")
    expect(evidence.locator(".slot-title").nth(1)).to_contain_text("B: alexnet · features.10")
    expect(page.locator(".cmp-filter")).to_have_count(0)
    expect(page.locator("#cmp-filter-head")).to_be_hidden()
    expect(page.locator("#cmp-profile-mean g.trace.boxes")).to_have_count(2)
    ticks = page.locator("#cmp-profile-mean .xtick text").evaluate_all("(ts) => ts.map((t) => t.textContent)")
    assert "A conv1" in ticks and "B features.0" in ticks
    expect(page.locator("#cmp-error .alert")).to_have_count(0)
    snap(page, "31-compare-architectures")

    # Back to the same model: filter by filter again.
    page.locator("#ctl-model2").select_option(label="second model: the same")
    page.wait_for_url(lambda url: "model2" not in query_of(url))
    expect(page.locator(".cmp-filter")).to_have_count(2)
    expect(page.locator("#cmp-filter-head")).to_be_visible()
