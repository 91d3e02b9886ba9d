"""End-to-end checks in a real headless Chromium: every page renders, the URL
is the state, hovers and restyles stay in the browser, clicks navigate, and
image intake reports its errors. Every wait is on a condition."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Locator, Page, Request, expect

from dashapp.figures.colormaps import COLORSCALES

from .helpers import EXAMPLES, by_dash_id, path_of, query_of, search_of, snap

pytestmark = pytest.mark.browser

SHA = re.compile(r"[?&]image=([0-9a-f]{64})")
HOVER_TEXT = re.compile(r"response [0-9.e+-]+ \(\d+th percentile")
DEFAULT_LAYER = "layer2.0.conv1"


# -- small page helpers


def overview_rows(page: Page) -> Locator:
    return page.locator("#overview-table .ag-row")


def overview_numbers(page: Page) -> Locator:
    """The overview's layer-wide numbers and its table body: both differ between images."""
    return page.locator("#overview-cards .stat-value, #overview-table .ag-row")


def settled_overview(page: Page) -> list[str]:
    """The overview's numbers once all of them are on screen."""
    expect(page.locator("#overview-cards .stat-value")).to_have_count(4)
    expect(overview_rows(page)).to_have_count(6)
    return overview_numbers(page).all_inner_texts()


def wait_for_overview_change(page: Page, before: list[str]) -> None:
    """Wait until the overview shows other numbers than ``before`` (not the
    previous image's, still on screen while the new one is computed)."""
    page.wait_for_function(
        """before => {
            const now = Array.from(document.querySelectorAll(
                "#overview-cards .stat-value, #overview-table .ag-row")).map(e => e.innerText);
            return now.length === before.length && now.some((text, i) => text !== before[i]);
        }""",
        arg=before,
    )


def nav_link(page: Page, path: str) -> Locator:
    return by_dash_id(page, page=path, type="nav-link")


def plot_of(page: Page, index: str) -> Locator:
    """The Plotly graph div inside the dcc.Graph {"type": "fig", "index": index}."""
    return by_dash_id(page, index=index, type="fig").locator(".js-plotly-plot")


def open_default(page: Page, path: str = "/") -> str:
    """Open ``path`` and wait until the URL state carries an image; return its sha."""
    page.goto(path)
    page.wait_for_url(SHA)
    match = SHA.search(page.url)
    assert match
    return match.group(1)


def wait_for_heatmaps(page: Page, count: int = 6) -> None:
    expect(page.locator("#heat-grid .map-slot")).to_have_count(count)
    expect(page.locator("#heat-grid .js-plotly-plot")).to_have_count(count)
    # Each map is drawn (the heatmap trace has its raster image) over the picture.
    expect(page.locator("#heat-grid .heatmaplayer image")).to_have_count(count)


def choose_dropdown_option(page: Page, dropdown_id: str, label: re.Pattern[str] | str) -> None:
    """Open a Dash 4 dcc.Dropdown with a click and click one of its options."""
    page.locator(f"#{dropdown_id}").click()
    option = page.locator("[role=listbox] [role=option]").filter(has_text=label)
    expect(option).to_have_count(1)
    option.click()
    expect(page.locator("[role=listbox]")).to_have_count(0)


def box_centre(locator: Locator) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box is not None, "element has no layout box"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


@contextmanager
def update_requests(page: Page) -> Iterator[list[Request]]:
    """Record every /_dash-update-component request made inside the block."""
    seen: list[Request] = []

    def record(request: Request) -> None:
        if "/_dash-update-component" in request.url:
            seen.append(request)

    page.on("request", record)
    try:
        yield seen
    finally:
        page.remove_listener("request", record)


def callback_output(request: Request) -> str:
    """The "output" field of a callback request: which callback ran."""
    try:
        return str(json.loads(request.post_data or "{}").get("output", ""))
    except ValueError:
        return "<unreadable body>"


# -- 1. the default view and every page through the navbar


def test_default_view_and_every_page_via_navbar(page: Page) -> None:
    open_default(page)
    expect(page.locator("#untrained-banner")).to_be_visible()
    expect(page.locator("#untrained-banner")).to_contain_text("Untrained weights")
    expect(overview_rows(page)).to_have_count(6)
    label = page.locator(".prediction-card .prediction-label")
    expect(label).to_have_text(re.compile(r"[A-Za-z]{3,}"))
    search = search_of(page.url)
    assert query_of(page.url)["layer"] == DEFAULT_LAYER
    snap(page, "01-overview")

    def visit(path: str) -> None:
        link = nav_link(page, path)
        # The navbar's links carry the query string (navHrefs, clientside).
        expect(link).to_have_attribute("href", f"{path}?{search}")
        if not link.is_visible():  # a page in a group of the menu: the group opens first
            page.locator(".nav-group", has=link).locator(".nav-group-toggle").click()
        link.click()
        page.wait_for_url(lambda url: path_of(url) == path)
        assert search_of(page.url) == search, f"{path}: the query string changed on navigation"
        expect(link).to_have_class(re.compile(r"\bactive\b"))

    visit("/heatmaps")
    wait_for_heatmaps(page)
    expect(page.locator("#heat-grid .slot-title").first).to_contain_text("#1 · filter")
    expect(plot_of(page, "heat-big").locator(".heatmaplayer image")).to_have_count(1)
    snap(page, "02-heatmaps")

    visit("/grid")
    grid_labels = plot_of(page, "grid").locator(".annotation-text")
    expect(grid_labels).to_have_count(24)
    texts = grid_labels.all_text_contents()
    ranks = sorted(int(m.group(1)) for t in texts if (m := re.search(r"rank (\d+)$", t)))
    assert ranks == list(range(1, 25)), texts
    expect(plot_of(page, "grid").locator(".heatmaplayer image")).to_have_count(24)
    snap(page, "03-grid")

    visit("/detail")
    expect(page.locator("#detail-title")).to_contain_text(f"of {DEFAULT_LAYER}")
    expect(page.locator("#detail-regions .scatterlayer .trace path.js-fill").first).to_be_attached()
    expect(page.locator("#detail-side .reading-summary")).to_contain_text("Reading.")
    expect(page.locator("#detail-side .reading-summary")).to_have_text(re.compile(r"Reading\.\s*\S.{10,}"))
    expect(page.locator("#detail-pick input[type=radio]")).to_have_count(6)
    expect(plot_of(page, "detail-heat").locator(".heatmaplayer image")).to_have_count(1)
    snap(page, "04-detail")

    visit("/kernels")
    expect(page.locator("#kernels-patterns .kernel-note")).to_contain_text("feature maps")
    expect(page.locator("#kernels-patterns img.kernel-img")).to_have_count(0)
    patches = page.locator("#kernels-patches img.patch-img")
    expect(patches.nth(5)).to_be_visible()
    assert patches.count() >= 6
    snap(page, "05-kernels-layer2")

    choose_dropdown_option(page, "ctl-layer", re.compile(r"^conv1 ·"))
    page.wait_for_url(lambda url: query_of(url).get("layer") == "conv1")
    expect(page.locator("#ctl-layer")).to_contain_text("conv1 ·")
    kernels = page.locator("#kernels-patterns img.kernel-img")
    expect(kernels).to_have_count(6)
    expect(kernels.first).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    expect(page.locator("#kernels-patterns .kernel-note")).to_have_count(0)
    snap(page, "06-kernels-conv1")

    search = search_of(page.url)  # the layer is part of the state now
    visit("/prediction")
    expect(page.locator("#prediction-chart .bars path")).to_have_count(5)
    expect(page.locator("#prediction-reading .meaningless")).to_contain_text("meaningless")
    expect(page.locator("#prediction-reading .prediction-top")).to_have_text(re.compile(r"[A-Za-z]{3,}"))
    snap(page, "07-prediction")


def test_the_page_runs_on_the_apps_plotly_bundle_without_babel_polyfill(page: Page) -> None:
    """plotly.js is the app's own bundle (scripts/plotly-bundle: scatter,
    heatmap, bar, box) and Dash's @babel/polyfill is not loaded
    (dashapp/web/page_scripts.py): core-js 2 would have replaced natives such as
    String.prototype.trim. Lazily loaded components still arrive: they read
    ``regeneratorRuntime``, which assets/vendor/regenerator-runtime.js defines."""
    open_default(page, "/heatmaps")
    wait_for_heatmaps(page)
    facts = page.evaluate("""() => ({
        version: window.Plotly.version,
        traces: Object.keys(window.Plotly.PlotSchema.get().traces).sort(),
        polyfill: Array.from(document.scripts).some((s) => s.src.includes("polyfill")),
        nativeTrim: Function.prototype.toString.call(String.prototype.trim).includes("[native code]"),
        runtime: typeof window.regeneratorRuntime.wrap,
    })""")
    assert facts == {"version": "4.1.1", "traces": ["bar", "box", "heatmap", "scatter"], "polyfill": False,
                     "nativeTrim": True, "runtime": "function"}
    # A slider and a dropdown (lazily loaded) are on the page and answer.
    expect(page.locator("#ctl-n .dash-slider-root, #ctl-n [role=slider]").first).to_be_visible()
    expect(page.locator("#ctl-layer")).to_contain_text(DEFAULT_LAYER)


# -- 2. an example image through the sidebar


def test_example_select_changes_image(page: Page) -> None:
    first = open_default(page)
    expect(page.locator("#image-caption")).to_contain_text("chelsea")
    expect(overview_rows(page)).to_have_count(6)
    before = settled_overview(page)
    page.locator("#ctl-example").select_option("coffee.png")
    page.wait_for_url(lambda url: query_of(url).get("image") not in (None, first))
    expect(page.locator("#image-caption")).to_contain_text("coffee")
    expect(page.locator("#image-caption")).to_contain_text("600×400 px")
    wait_for_overview_change(page, before)
    expect(overview_rows(page)).to_have_count(6)
    snap(page, "08-example-coffee")


# -- 3. hovering a heatmap is answered in the browser


def test_heatmap_hover_shows_value_and_receptive_field(page: Page) -> None:
    open_default(page, "/heatmaps")
    wait_for_heatmaps(page)
    plot = plot_of(page, "heat-1")
    x, y = box_centre(plot.locator(".nsewdrag"))
    page.mouse.move(x - 20, y - 20)
    page.mouse.move(x, y, steps=5)
    hover = by_dash_id(page, index="heat-1", type="fig-hover")
    expect(hover).to_have_text(HOVER_TEXT)
    expect(hover).to_contain_text("px")
    expect(hover).to_contain_text("receptive field")
    # The receptive field of the hovered cell is drawn as a dotted rectangle.
    expect(plot.locator(".shapelayer path").first).to_be_attached()
    dash = plot.locator(".shapelayer path").first.evaluate("el => el.style.strokeDasharray")
    assert dash and dash != "none", f"the hover rectangle is not dotted (stroke-dasharray {dash!r})"
    snap(page, "09-heatmap-hover", full_page=False)


# -- 4. a click on the grid opens that filter


def test_grid_click_opens_detail(page: Page) -> None:
    open_default(page, "/grid")
    plot = plot_of(page, "grid")
    labels = plot.locator(".annotation-text")
    expect(labels).to_have_count(24)
    first_label = labels.first.text_content() or ""
    match = re.fullmatch(r"#(\d+) · rank 1", first_label)
    assert match, f"first grid label is {first_label!r}"
    wanted = match.group(1)

    x, y = box_centre(plot.locator(".nsewdrag[data-subplot='xy']"))
    page.mouse.move(x, y, steps=3)
    expect(plot.locator(".hoverlayer .hovertext")).to_contain_text("rank 1")
    page.mouse.click(x, y)
    page.wait_for_url(lambda url: path_of(url) == "/detail")
    assert query_of(page.url).get("filter") == wanted
    expect(page.locator("#detail-title")).to_contain_text(f"Filter {wanted} of {DEFAULT_LAYER}")
    snap(page, "10-grid-click-detail")


# -- 5. a pasted link restores the whole view


def test_pasted_link_restores_state(page: Page) -> None:
    sha = open_default(page)
    link = (f"/detail?v=1&image={sha}&model=resnet18&layer=layer1.0.conv1&criterion=max&n=4&min_sparsity=0.15"
            "&weight=0.5&opacity=0.5&colormap=Jet&filter=5")
    other = page.context.new_page()
    other.goto(link)

    def check() -> None:
        expect(other.locator("#detail-title")).to_contain_text("Filter 5 of layer1.0.conv1")
        expect(other.locator("#ctl-layer")).to_contain_text("layer1.0.conv1")
        expect(other.locator("#ctl-criterion input[value=max]")).to_be_checked()
        expect(other.locator("#ctl-n [role=slider]")).to_have_attribute("aria-valuenow", "4")
        expect(other.locator("#detail-pick input[type=radio]")).to_have_count(4)
        # criterion max hides the balanced-only controls
        expect(other.locator("#balanced-controls")).to_be_hidden()
        state = query_of(other.url)
        assert path_of(other.url) == "/detail"
        assert {k: state.get(k) for k in ("image", "layer", "criterion", "n", "filter")} == {
            "image": sha, "layer": "layer1.0.conv1", "criterion": "max", "n": "4", "filter": "5"}

    check()
    expect(other.locator("#state-messages .state-message")).to_have_count(0)
    snap(other, "11-pasted-link")
    other.reload()
    check()


# -- 6. bad links are reported, not fatal


def test_bad_url_values_are_reported(page: Page) -> None:
    page.goto("/?model=resnet18&layer=nope.conv")
    messages = page.locator("#state-messages")
    expect(messages).to_contain_text("nope.conv")
    expect(overview_rows(page)).to_have_count(6)
    page.wait_for_url(lambda url: query_of(url).get("layer") == DEFAULT_LAYER)
    snap(page, "12-unknown-layer")

    page.goto("/?n=NaN&weight=7&model=bogus")
    expect(messages).to_contain_text("bogus")
    expect(messages).to_contain_text("n='NaN'")
    expect(messages).to_contain_text("weight='7'")
    expect(overview_rows(page)).to_have_count(6)
    page.wait_for_url(lambda url: query_of(url).get("model") == "resnet18" and query_of(url).get("n") == "6")
    expect(page.locator("#overview-error .page-error")).to_have_count(0)
    snap(page, "13-bad-values")


# -- 7. a click on a region box opens its card


def test_region_click_shows_region_card(page: Page) -> None:
    open_default(page, "/detail")
    plot = page.locator("#detail-regions .js-plotly-plot")
    expect(plot.locator(".scatterlayer .trace path.js-fill").first).to_be_attached()
    geometry = plot.evaluate(
        """gd => ({
            boxes: gd.data.map(t => ({x0: Math.min(...t.x), x1: Math.max(...t.x),
                                      y0: Math.min(...t.y), y1: Math.max(...t.y)})),
            xr: gd._fullLayout.xaxis.range, yr: gd._fullLayout.yaxis.range,
        })"""
    )
    boxes = geometry["boxes"]
    first = boxes[0]

    def free(px: float, py: float) -> bool:
        return not any(b["x0"] <= px <= b["x1"] and b["y0"] <= py <= b["y1"] for b in boxes[1:])

    # The centre of region 1, or the nearest point of its box no other box covers.
    cx, cy = (first["x0"] + first["x1"]) / 2, (first["y0"] + first["y1"]) / 2
    steps = [i / 10 for i in range(1, 10)]
    candidates = sorted(
        ((first["x0"] + fx * (first["x1"] - first["x0"]), first["y0"] + fy * (first["y1"] - first["y0"]))
         for fx in steps for fy in steps),
        key=lambda p: (p[0] - cx) ** 2 + (p[1] - cy) ** 2,
    )
    target = next((p for p in candidates if free(*p)), (cx, cy))

    drag = plot.locator(".nsewdrag").bounding_box()
    assert drag is not None
    (x0, x1), (y0, y1) = geometry["xr"], geometry["yr"]
    px = drag["x"] + (target[0] - x0) / (x1 - x0) * drag["width"]
    # Plotly's y range runs upwards from range[0] at the bottom (reversed here: the image's y=0 is on top).
    py = drag["y"] + drag["height"] - (target[1] - y0) / (y1 - y0) * drag["height"]
    page.mouse.move(px, py, steps=3)
    expect(plot.locator(".hoverlayer .hovertext")).to_contain_text("Region 1")
    page.mouse.click(px, py)
    card = page.locator("#region-card")
    expect(card).to_contain_text("Region 1")
    expect(card.locator("img.region-crop")).to_have_attribute("src", re.compile(r"^data:image/"))
    expect(card.locator("img.region-crop")).to_be_visible()
    snap(page, "14-region-card")


# -- 8. restyling never asks the server for figures


def test_restyle_stays_in_browser(page: Page) -> None:
    open_default(page, "/heatmaps")
    wait_for_heatmaps(page)
    page.wait_for_load_state("networkidle")
    first = plot_of(page, "heat-1")
    # the default, uniform and colour-blind-safe, as its stops (a name plotly.js lacks would draw as RdBu)
    assert first.evaluate("gd => gd._fullData[0].colorscale") == COLORSCALES["Viridis"]
    assert first.evaluate("gd => gd.data[0].opacity") == 0.5

    with update_requests(page) as seen:
        choose_dropdown_option(page, "ctl-colormap", re.compile(r"^Cividis — "))
        page.wait_for_function("([el, s]) => el.data && JSON.stringify(el.data[0].colorscale) === JSON.stringify(s)",
                               arg=[first.element_handle(), COLORSCALES["Cividis"]])
        page.wait_for_url(lambda url: query_of(url).get("colormap") == "Cividis")
        page.wait_for_load_state("networkidle")

        page.locator("#ctl-opacity [role=slider]").click()
        page.keyboard.press("End")
        page.wait_for_function("el => el.data && el.data[0].opacity === 1", arg=first.element_handle())
        page.wait_for_url(lambda url: query_of(url).get("opacity") == "1")
        page.wait_for_load_state("networkidle")

    # Restyling is the browser's alone, the URL included: no server call at all.
    outputs = [callback_output(request) for request in seen]
    assert not outputs, f"a restyle called the server: {outputs}"

    # The second restyle must keep the first one (URL, control and every map).
    state = query_of(page.url)
    assert (state.get("colormap"), state.get("opacity")) == ("Cividis", "1"), \
        f"changing the opacity lost the colormap: URL has colormap={state.get('colormap')}"
    expect(page.locator("#ctl-colormap")).to_have_text(re.compile(r"^Cividis — "))
    colours = page.locator("#heat-grid .js-plotly-plot, [id='{\"index\":\"heat-big\",\"type\":\"fig\"}'] "
                           ".js-plotly-plot").evaluate_all("els => els.map(gd => gd._fullData[0].colorscale)")
    assert colours == [COLORSCALES["Cividis"]] * 7, colours
    snap(page, "15-restyled-cividis")


# -- 9. uploads: a good one, a broken one, a too-large one


def test_upload_good_bad_and_too_large(page: Page) -> None:
    first = open_default(page)
    expect(overview_rows(page)).to_have_count(6)
    upload = page.locator("#ctl-upload input[type=file]")
    message = page.locator("#image-message")
    caption = page.locator("#image-caption")

    before = settled_overview(page)
    upload.set_input_files(str(EXAMPLES / "astronaut.png"))
    page.wait_for_url(lambda url: query_of(url).get("image") not in (None, first))
    expect(caption).to_contain_text("512×512 px")
    wait_for_overview_change(page, before)
    expect(overview_rows(page)).to_have_count(6)
    snap(page, "16-upload-ok")
    uploaded = query_of(page.url)["image"]

    upload.set_input_files(files=[{"name": "x.png", "mimeType": "image/png",
                                   "buffer": b"this is plain text, not a PNG\n" * 40}])
    expect(message.locator(".image-error")).to_be_visible()
    expect(message.locator(".image-error")).to_have_text(re.compile(r"\w{3,}"))
    assert query_of(page.url)["image"] == uploaded
    snap(page, "17-upload-not-an-image")
    # The page still works: another image loads after the error.
    before = settled_overview(page)
    page.locator("#ctl-example").select_option("coffee.png")
    expect(caption).to_contain_text("600×400 px")
    wait_for_overview_change(page, before)
    expect(overview_rows(page)).to_have_count(6)

    limit = 10 * 1024 * 1024
    with update_requests(page) as seen:
        upload.set_input_files(files=[{"name": "big.png", "mimeType": "image/png",
                                       "buffer": os.urandom(limit + 2 * 1024 * 1024)}])
        expect(message).to_contain_text("upload limit")
        expect(message).to_contain_text("big.png")
    assert all(len(request.post_data_buffer or b"") < limit for request in seen), \
        "the over-limit file was sent to the server"
    expect(caption).to_contain_text("600×400 px")
    snap(page, "18-upload-too-large")
