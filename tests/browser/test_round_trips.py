"""What a control change costs in server round trips, in a real Chromium.

Speed itself is measured by ``benchmarks/browser.py``; these tests pin the
behaviour that makes it: the enlarged heatmap and the detail page's picker
work in the browser, a control change reaches the pages in one state answer,
and graphs that show the same thing are not redrawn. Every wait is on a
condition."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, Route, expect

from .helpers import by_dash_id, callbacks, query_of
from .test_pages import choose_dropdown_option

pytestmark = pytest.mark.browser

LAYER = "layer2.0.conv1"


def plot(page: Page, index: str) -> str:
    """A JS expression for the Plotly div of the graph ``index``."""
    dom_id = json.dumps({"index": index, "type": "fig"}, separators=(",", ":"))
    return f"document.getElementById({json.dumps(dom_id)}).querySelector('.js-plotly-plot')"


def open_heatmaps(page: Page) -> None:
    page.goto(f"/heatmaps?layer={LAYER}")
    expect(page.locator("#heat-grid .heatmaplayer image")).to_have_count(6)
    expect(by_dash_id(page, index="heat-big", type="fig").locator(".heatmaplayer image")).to_have_count(1)
    page.wait_for_load_state("networkidle")


def test_enlarging_another_filter_needs_no_server(page: Page) -> None:
    open_heatmaps(page)
    current = page.locator("#heat-pick").input_value()
    other = next(v for v in page.locator("#heat-pick option").evaluate_all("els => els.map(e => e.value)")
                 if v and v != current)
    with callbacks(page) as seen:
        page.select_option("#heat-pick", other)
        page.wait_for_function(f"() => {{ const gd = {plot(page, 'heat-big')}; "
                               f"return gd && gd.layout.meta.filter === {int(other)} && gd.layout.height === 520; }}")
        page.wait_for_load_state("networkidle")
    assert seen == [], f"enlarging asked the server: {seen}"
    # The enlarged map is the small map of that filter: the same values.
    same = page.evaluate(f"""() => {{
        const big = {plot(page, 'heat-big')};
        const small = Array.from(document.querySelectorAll('#heat-grid .js-plotly-plot'))
            .find(gd => gd.layout.meta.filter === {int(other)});
        return small.data[0].z.bdata === big.data[0].z.bdata;
    }}""")
    assert same


def titles_of(page: Page) -> list[str]:
    return page.locator("#heat-grid .slot-title").all_inner_texts()


def test_a_ranking_change_is_drawn_before_any_server_answer(page: Page) -> None:
    """The new maps are ranked and drawn in the browser from the layer sent
    once (assets/js/ranking.js): while every callback request is held, a
    criterion change already shows the new ranking. Released, the state
    answer puts it in the address, and the page's answer carries no maps."""
    open_heatmaps(page)
    old = titles_of(page)
    held: list[Route] = []
    released: list[bool] = []

    def hold(route: Route) -> None:
        if released:
            route.continue_()
        else:
            held.append(route)

    page.route("**/_dash-update-component*", hold)
    with callbacks(page) as seen:
        page.locator("#ctl-criterion label").filter(has_text=re.compile(r"^max ")).click()
        page.wait_for_function("""old => {
            const titles = Array.from(document.querySelectorAll('#heat-grid .slot-title')).map(e => e.innerText);
            return titles.length === 6 && titles.join() !== old.join(); }""", arg=old)
        expect(page.locator("#heat-grid .heatmaplayer image")).to_have_count(6)
        drawn = titles_of(page)
        # The enlarged map follows the new ranking's first filter, in the browser too.
        first = int(page.locator("#heat-pick").input_value())
        page.wait_for_function(f"() => {plot(page, 'heat-big')}.layout.meta.filter === {first}")
        assert query_of(page.url).get("criterion") != "max" and held, "drawn only after the server answered"
        released.append(True)
        # The page's own answer to the new state (its notice) follows the state answer.
        with page.expect_response(lambda r: "/_dash-update-component" in r.url
                                  and "heat-layer.data" in (r.request.post_data or "")) as rendered:
            for route in held:
                route.continue_()
        page.wait_for_url(lambda url: query_of(url).get("criterion") == "max")
    page.unroute("**/_dash-update-component*")
    # The browser's ranking is the server's: the same filters, in the same order, with the same words.
    assert titles_of(page) == drawn
    ranked = page.request.get("/api/analysis?" + page.url.split("?", 1)[1]).json()["ranking"]["filters"]
    assert [int(re.search(r"filter (\d+)", t).group(1)) for t in drawn] == [f["index"] for f in ranked]
    # One state answer (with the pages' ready state); the weights banner and
    # the image caption do not depend on the criterion; the page's answer
    # (its notice) resends no layer.
    state = [o for o in seen if "url-target.data" in o]
    assert len(state) == 1 and "ready-state.data" in state[0], seen
    # The weights banner, the image caption and the second models depend on the model or image
    # alone: the state answer and the page's are the only requests.
    assert len([o for o in seen if "heat-layer.data" in o]) == 1 and len(seen) == 2, seen
    assert "heat-layer" not in rendered.value.json()["response"], "the layer was sent again"
    assert not [o for o in seen if o.startswith(("..ready-state.data", '..{"index":"heat-big"'))], seen


def test_unchanged_graphs_are_not_redrawn(page: Page) -> None:
    """Showing one more filter (n 6 -> 7) keeps the first one, so the
    enlarged map stays as it is: it must not be drawn again. (Counted as
    Plotly.react calls, dcc.Graph's way to draw, and Plotly.restyle calls and
    repaints by assets/js/mapcolour.js, the style controls' ways: a resize of
    the page, which a seventh map may cause, is not a redraw.)"""
    open_heatmaps(page)
    big = json.dumps(json.dumps({"index": "heat-big", "type": "fig"}, separators=(",", ":")))
    page.evaluate(f"""() => {{
        window.__bigDraws = 0;
        for (const [owner, name] of [[window.Plotly, "react"], [window.Plotly, "restyle"],
                                     [window.dashappMapColour, "recolour"], [window.dashappMapColour, "setOpacity"]]) {{
            const original = owner[name];
            owner[name] = function (gd) {{
                const graph = gd && gd.closest ? gd.closest("[id]") : null;
                if (graph && graph.id === {big}) {{ window.__bigDraws += 1; }}
                return original.apply(this, arguments);
            }};
        }}
    }}""")
    page.locator("#ctl-n [role=slider]").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_url(lambda url: query_of(url).get("n") == "7")
    expect(page.locator("#heat-grid .heatmaplayer image")).to_have_count(7)
    # And back to five: the sixth and seventh slots are taken out, the first five stay drawn.
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    page.wait_for_url(lambda url: query_of(url).get("n") == "5")
    expect(page.locator("#heat-grid .heatmaplayer image")).to_have_count(5)
    expect(page.locator("#heat-grid .slot-title")).to_have_count(5)
    assert page.evaluate("() => window.__bigDraws") == 0
    # A style change still redraws it.
    page.locator("#ctl-opacity [role=slider]").focus()
    page.keyboard.press("End")
    page.wait_for_function("() => window.__bigDraws > 0")
    page.wait_for_function(f"() => {plot(page, 'heat-big')}.data[0].opacity === 1")


def test_detail_pick_goes_straight_to_the_state(page: Page) -> None:
    page.goto(f"/detail?layer={LAYER}")
    labels = page.locator("#detail-pick label")
    expect(labels).to_have_count(6)
    page.wait_for_load_state("networkidle")
    before = query_of(page.url).get("filter")
    with callbacks(page) as seen:
        labels.nth(2).click()
        page.wait_for_url(lambda url: query_of(url).get("filter") not in (None, before))
        page.wait_for_load_state("networkidle")
    wanted = query_of(page.url)["filter"]
    expect(page.locator("#detail-title")).to_contain_text(f"Filter {wanted} of {LAYER}")
    # The pick becomes a navigation request in the browser: the first server
    # call is the state callback, and no call answers only "nothing to do".
    assert seen and "url-target.data" in seen[0], seen
    assert not [o for o in seen if o.startswith("nav-request")], seen


# Each heatmap of the grid as drawn: its graph's width beside its box's (the
# dcc.Graph, which follows the grid's columns), how much of the graph the
# plot area fills along its fuller side, and screen pixels per image pixel
# along x and along y (plot area / axis range).
GRID_FIT = """
() => Array.from(document.querySelectorAll('#heat-grid .js-plotly-plot')).map(gd => {
  const full = gd._fullLayout, xa = full.xaxis, ya = full.yaxis;
  return {width: full.width, cell: gd.closest('.map-graph').getBoundingClientRect().width,
          fills: Math.max(xa._length / full.width, ya._length / full.height),
          xScale: xa._length / Math.abs(xa.range[1] - xa.range[0]),
          yScale: ya._length / Math.abs(ya.range[1] - ya.range[0])};
})
"""


def test_maps_fit_their_cells_when_the_grid_changes_columns(page: Page) -> None:
    """Seven maps put four in a row instead of three: the maps already drawn
    are drawn again at the new width, each filling its box (the picture as
    large as the box allows), the picture's aspect kept (as many screen
    pixels per image pixel along x as along y), and back again at six."""
    open_heatmaps(page)
    slider = page.locator("#ctl-n [role=slider]")
    for key, count in (("ArrowRight", 7), ("ArrowLeft", 6)):
        before = page.evaluate(GRID_FIT)
        slider.focus()
        page.keyboard.press(key)
        expect(page.locator("#heat-grid .heatmaplayer image")).to_have_count(count)
        page.wait_for_function(f"""() => {{
            const fit = ({GRID_FIT})();
            return fit.length === {count} && fit.every(f => Math.abs(f.width - f.cell) <= 1); }}""")
        page.wait_for_load_state("networkidle")
        after = page.evaluate(GRID_FIT)
        assert len(after) == count
        assert after[0]["width"] != pytest.approx(before[0]["width"], abs=20), "the first map kept its old width"
        for fit in after:
            assert fit["width"] == pytest.approx(fit["cell"], abs=1)
            assert fit["fills"] == pytest.approx(1, abs=0.01), fit
            assert fit["xScale"] > 0 and fit["xScale"] == pytest.approx(fit["yScale"], rel=0.01), fit


def test_a_layer_shown_before_is_drawn_from_the_browser(page: Page) -> None:
    """The browser keeps the last layers it was sent (assets/js/ranking.js): back on one, the
    server answers with its key alone, and the same maps are drawn."""
    open_heatmaps(page)
    first = titles_of(page)
    drawn = page.evaluate(f"() => {plot(page, 'heat-1')}.data[0].z.bdata || null")
    choose_dropdown_option(page, "ctl-layer", re.compile(r"^layer2\.0\.conv2 "))
    page.wait_for_url(lambda url: query_of(url).get("layer") == "layer2.0.conv2")
    page.wait_for_function("old => document.querySelector('#heat-grid .slot-title').innerText !== old", arg=first[0])
    with page.expect_response(lambda r: "/_dash-update-component" in r.url
                              and "heat-layer.data" in (r.request.post_data or "")) as back:
        choose_dropdown_option(page, "ctl-layer", re.compile(rf"^{re.escape(LAYER)} "))
    sent = back.value.json()["response"]["heat-layer"]["data"]
    assert set(sent) == {"key"} and f"|{LAYER}|" in sent["key"]
    page.wait_for_function("old => Array.from(document.querySelectorAll('#heat-grid .slot-title'))"
                           ".map(e => e.innerText).join() === old.join()", arg=first)
    page.wait_for_function(f"z => {{ const gd = {plot(page, 'heat-1')}; return gd && gd.data[0].z && "
                           f"(gd.data[0].z.bdata || null) === z; }}", arg=drawn)


def test_a_first_visit_draws_the_layer_its_layout_holds(page: Page) -> None:
    """The served layout holds the page's layer (pages/heatmaps.py first_data, ui/layout/served.py):
    the maps are drawn with no request for it, and the page's own answer resends nothing."""
    answers: list[dict[str, object]] = []
    page.on("response", lambda r: answers.append(r.json().get("response", {}))
            if "/_dash-update-component" in r.url else None)
    with page.expect_response(lambda r: "/_dash-layout" in r.url) as layout:
        open_heatmaps(page)
    assert '"heat-first"' in layout.value.text() and '"maps"' in layout.value.text()
    assert answers and not [a for a in answers if "heat-layer" in a], "the layer was sent again"
