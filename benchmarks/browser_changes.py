"""The control changes the browser benchmark times, page by page, and a first visit."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page

from benchmarks.browser_page import INIT_SCRIPT, LAST_DRAW, Result, Traffic, measure, wait_drawn

LAYER = "layer2.0.conv1"
OTHER_LAYER = "layer2.0.conv2"
CRITERIA = ["mean", "max", "std", "balanced"]
HEAT_GRID = "#heat-grid .js-plotly-plot"
HEAT_BIG = "[id='{\"index\":\"heat-big\",\"type\":\"fig\"}'] .js-plotly-plot"
GRID = "[id='{\"index\":\"grid\",\"type\":\"fig\"}'] .js-plotly-plot"
REGIONS = "#detail-regions .js-plotly-plot"
DETAIL = ("#detail-regions .js-plotly-plot, "
          "[id='{\"index\":\"detail-heat\",\"type\":\"fig\"}'] .js-plotly-plot")


def first_visit(browser: Browser, url: str, path: str) -> tuple[float, int, float, list[tuple[int, str]]]:
    """A fresh context (empty cache): bytes on the wire, time to six drawn
    heatmaps after navigation start; then a second visit with the cache warm."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(INIT_SCRIPT)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    urls: dict[str, str] = {}
    sizes: dict[str, int] = {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    traffic = Traffic()
    traffic.attach(page)
    page.goto(url + path)
    wait_drawn(page, HEAT_GRID, 6, 0)
    traffic.settle(page)
    drawn = float(page.evaluate(LAST_DRAW, HEAT_GRID))
    total = sum(sizes.values())
    biggest = sorted(((size, urls.get(rid, "?")) for rid, size in sizes.items()), reverse=True)[:5]
    page.goto("about:blank")
    page.goto(url + path)
    wait_drawn(page, HEAT_GRID, 6, 0)
    traffic.settle(page)
    again = float(page.evaluate(LAST_DRAW, HEAT_GRID))
    context.close()
    return drawn, total, again, biggest


def heat_count(page: Page) -> int:
    return int(page.evaluate("() => document.querySelectorAll('#heat-grid .map-slot').length"))


def choose_layer(page: Page, layer: str) -> None:
    page.locator("#ctl-layer").click()
    option = page.locator("[role=listbox] [role=option]").filter(has_text=re.compile(rf"^{re.escape(layer)} "))
    option.click()


def choose_colormap(page: Page, name: str) -> None:
    page.locator("#ctl-colormap").click()
    page.locator("[role=listbox] [role=option]").filter(has_text=re.compile(rf"^{name}( —|$)")).click()


def criterion(page: Page, value: str) -> None:
    page.locator("#ctl-criterion label").filter(has_text=re.compile(rf"^{value} ")).click()


def slider_key(page: Page, slider: str, key: str) -> None:
    page.locator(f"#{slider} [role=slider]").focus()
    page.keyboard.press(key)


def layer_changes(page: Page, traffic: Traffic, name: str, selector: str, count: int, repeat: int) -> Result:
    """Switch between LAYER and OTHER_LAYER ``repeat`` times, then leave the page on LAYER."""
    res = Result(name)
    for i in range(repeat):
        measure(page, traffic, res, lambda layer=(OTHER_LAYER if i % 2 == 0 else LAYER): choose_layer(page, layer),
                selector, count)
    if f"layer={LAYER}" not in page.url:
        choose_layer(page, LAYER)
        traffic.settle(page)
    return res


def run_changes(page: Page, url: str, repeat: int) -> list[Result]:
    """Every timed control change: the heatmaps page, then the grid, then the detail page."""
    traffic = Traffic()
    traffic.attach(page)
    return [*heatmaps_changes(page, traffic, url, repeat), *grid_changes(page, traffic, url, repeat),
            *detail_changes(page, traffic, url, repeat)]


def heatmaps_changes(page: Page, traffic: Traffic, url: str, repeat: int) -> list[Result]:
    results: list[Result] = []
    page.goto(f"{url}/heatmaps?layer={LAYER}")
    wait_drawn(page, HEAT_GRID, 6, 0)
    for i in range(2):  # warm the server cache (every layer of this model and image) and the page
        criterion(page, CRITERIA[i])
        traffic.settle(page)
    criterion(page, "balanced")
    traffic.settle(page)
    res = Result("heatmaps: criterion")
    for i in range(repeat):
        measure(page, traffic, res, lambda c=CRITERIA[i % 4]: criterion(page, c), HEAT_GRID, 6)
    results.append(res)
    criterion(page, "balanced")
    traffic.settle(page)

    res = Result("heatmaps: n (6 <-> 7)")
    for i in range(repeat):
        key = "ArrowRight" if i % 2 == 0 else "ArrowLeft"
        expected = 7 if i % 2 == 0 else 6
        measure(page, traffic, res, lambda k=key: slider_key(page, "ctl-n", k), HEAT_GRID, expected)
        if heat_count(page) != expected:
            raise RuntimeError(f"n change did not give {expected} maps")
    results.append(res)
    if heat_count(page) != 6:
        slider_key(page, "ctl-n", "ArrowLeft")
        traffic.settle(page)

    results.append(layer_changes(page, traffic, "heatmaps: layer", HEAT_GRID, 6, repeat))

    res = Result("heatmaps: enlarge pick")
    for i in range(repeat):
        current = page.locator("#heat-pick").input_value()
        options = [v for v in page.locator("#heat-pick option").evaluate_all("els => els.map(e => e.value)")
                   if v and v != current]
        value = options[i % len(options)]
        measure(page, traffic, res, lambda v=value: page.select_option("#heat-pick", v), HEAT_BIG, 1)
    results.append(res)

    res = Result("heatmaps: colormap")
    for i in range(repeat):
        measure(page, traffic, res, lambda c=("Jet" if i % 2 == 0 else "Hot"): choose_colormap(page, c),
                f"{HEAT_GRID}, {HEAT_BIG}", 7)
    results.append(res)

    res = Result("heatmaps: opacity")
    for i in range(repeat):
        measure(page, traffic, res, lambda k=("ArrowRight" if i % 2 == 0 else "ArrowLeft"): slider_key(
            page, "ctl-opacity", k), f"{HEAT_GRID}, {HEAT_BIG}", 7)
    results.append(res)
    return results


def grid_changes(page: Page, traffic: Traffic, url: str, repeat: int) -> list[Result]:
    results: list[Result] = []
    page.goto(f"{url}/grid?layer={LAYER}")
    wait_drawn(page, GRID, 1, 0)
    traffic.settle(page)
    res = Result("grid: criterion")
    for i in range(repeat):
        measure(page, traffic, res, lambda c=CRITERIA[i % 4]: criterion(page, c), GRID, 1)
    results.append(res)
    results.append(layer_changes(page, traffic, "grid: layer", GRID, 1, repeat))
    criterion(page, "balanced")
    traffic.settle(page)
    return results


def detail_changes(page: Page, traffic: Traffic, url: str, repeat: int) -> list[Result]:
    results: list[Result] = []
    page.goto(f"{url}/detail?layer={LAYER}")
    wait_drawn(page, DETAIL, 2, 0)
    traffic.settle(page)
    res = Result("detail: filter pick")
    labels = page.locator("#detail-pick label")
    for i in range(repeat):
        measure(page, traffic, res, lambda j=(i + 1) % 6: labels.nth(j).click(), DETAIL, 2)
    results.append(res)
    # The filter stays (it is in the URL now), so its heatmap does not change
    # and is not redrawn; the regions figure is redrawn with the new rank.
    res = Result("detail: criterion")
    for i in range(repeat):
        measure(page, traffic, res, lambda c=CRITERIA[i % 4]: criterion(page, c), REGIONS, 1)
    results.append(res)
    return results
