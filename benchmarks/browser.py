"""Browser benchmark: speed as the user feels it, in real headless Chromium.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/browser.py [--repeat 7] [--visits 3]

Starts ``python -m dashapp`` on a free loopback port (seeded random weights, a
temporary data directory), drives Debian's Chromium through Playwright and
prints, beside a bare ResNet18 forward pass measured in the same run:

* the first visit of /heatmaps with an empty browser cache: bytes transferred
  (CDP ``Network.loadingFinished`` encodedDataLength, i.e. on the wire, after
  any compression) and the time from navigation start to the six heatmaps
  drawn; also a second visit with the browser cache warm;
* each control change on a warm server cache (criterion, n, layer, filter
  pick on the heatmaps, grid and detail pages; opacity and colormap): median
  and p90 from the input event to the figures drawn, and the number of
  ``/_dash-update-component`` requests the change caused.

"Drawn" is a condition in the page, not a sleep: an init script wraps
``Plotly.newPlot`` / ``Plotly.react`` (dcc.Graph draws through them),
``Plotly.restyle`` / ``Plotly.relayout`` (the heatmaps are refitted when their
columns change) and the maps' own repainting (``assets/js/mapcolour.js``: the
opacity and colormap controls repaint the cells in place) and stamps each
graph div when its draw promise has resolved and the next frame has run (both
plotly.js and the repainting set a new picture on the trace's <image> and
resolve; neither waits for its load event). After the input event (recorded by a capture-phase listener on the
document) the benchmark waits until the target graphs are on the page and one
of them was drawn (or the page changed: a title, a slot added or removed; a
mutation observer stamps the page's last change), then until the change has
finished (no request in flight and no draw for ``QUIET_MS``), and takes the
later of the last draw of a target graph and the page's last change: the page
as it ends up. (The first draw after the input is not enough: graphs still
showing the previous state may be redrawn unchanged on the way; and a graph
that already shows what the change asks for is not redrawn at all.)
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
from playwright.sync_api import Browser, Page, Request, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
LAYER = "layer2.0.conv1"
OTHER_LAYER = "layer2.0.conv2"
QUIET_MS = 400
TIMEOUT_MS = 120_000
HEAT_GRID = "#heat-grid .js-plotly-plot"
HEAT_BIG = "[id='{\"index\":\"heat-big\",\"type\":\"fig\"}'] .js-plotly-plot"
GRID = "[id='{\"index\":\"grid\",\"type\":\"fig\"}'] .js-plotly-plot"
REGIONS = "#detail-regions .js-plotly-plot"
DETAIL = ("#detail-regions .js-plotly-plot, "
          "[id='{\"index\":\"detail-heat\",\"type\":\"fig\"}'] .js-plotly-plot")

# Stamps every draw and the last user input, in page time (performance.now()).
INIT_SCRIPT = """
(() => {
  window.__bench = {input: -1, draws: 0, lastDraw: -1, lastChange: -1};
  for (const type of ["pointerdown", "mousedown", "keydown", "change", "input"]) {
    document.addEventListener(type, () => { window.__bench.input = performance.now(); }, true);
  }
  function wrap(plotly, names) {
    for (const name of names) {
      const original = plotly[name];
      if (typeof original !== "function" || original.__bench) { continue; }
      const wrapped = function (gd) {
        const result = original.apply(this, arguments);
        if (result === null) { return result; }  // a repaint refused: plotly.js draws instead
        const div = typeof gd === "string" ? document.getElementById(gd) : gd;
        Promise.resolve(result).then(() => requestAnimationFrame(() => {
          const now = performance.now();
          if (div) { div.__drawnAt = now; }
          window.__bench.draws += 1;
          window.__bench.lastDraw = now;
        }));
        return result;
      };
      wrapped.__bench = true;
      plotly[name] = wrapped;
    }
  }
  // The page's own changes (a map's title, a slot added or removed), for a
  // change that redraws no graph or not only graphs.
  new MutationObserver(records => {
    const inPage = node => {
      const element = node.closest ? node : node.parentElement;
      return element && element.closest("#_pages_content");
    };
    if (records.some(r => inPage(r.target))) {
      requestAnimationFrame(() => { window.__bench.lastChange = performance.now(); });
    }
  // Nodes and text only: attributes change without anything new to see
  // (Dash's loading marks; plotly.js's debounced resize of a graph whose
  // size did not change).
  }).observe(document, {subtree: true, childList: true, characterData: true});
  // Plotly's drawing calls, and the maps' own repainting (assets/js/mapcolour.js),
  // each stamped once what it returned has resolved and the next frame has run.
  for (const [global, names] of [["Plotly", ["newPlot", "react", "restyle", "relayout"]],
                                 ["dashappMapColour", ["recolour", "setOpacity"]]]) {
    let held;
    Object.defineProperty(window, global, {
      configurable: true,
      get() { return held; },
      set(value) { held = value; if (value) { wrap(value, names); } },
    });
  }
})();
"""

# True once there are ``count`` graphs matching the selector, each drawn (at
# some time), and ``every`` of them was drawn after ``since`` (when ``every``
# is false: one of them, or anything else on the page changed); resolves to
# the last drawing time.
DRAWN = """
([selector, count, since, every]) => {
  const graphs = Array.from(document.querySelectorAll(selector));
  if (graphs.length !== count) { return false; }
  let last = every ? -1 : window.__bench.lastChange;
  for (const gd of graphs) {
    if (!(gd.__drawnAt > 0) || !gd._fullLayout || (every && !(gd.__drawnAt > since))) { return false; }
    last = Math.max(last, gd.__drawnAt);
  }
  return last > since ? last : false;
}
"""


QUIET_DRAWS = "quiet => !window.__bench || performance.now() - window.__bench.lastDraw >= quiet"

# The last draw of every graph matching the selector.
LAST_DRAW = "selector => Math.max(...Array.from(document.querySelectorAll(selector)).map(gd => gd.__drawnAt))"
# The same, or the page's last change if that came later: the page as it ends up.
LAST_CHANGE = f"selector => Math.max(({LAST_DRAW})(selector), window.__bench.lastChange)"


@dataclass
class Traffic:
    """Requests of one page, counted by kind; in-flight tracking for quiescence."""

    in_flight: int = 0
    last_activity: float = field(default_factory=time.perf_counter)
    updates: int = 0

    def started(self, request: Request) -> None:
        self.in_flight += 1
        self.last_activity = time.perf_counter()
        if "/_dash-update-component" in request.url:
            self.updates += 1

    def ended(self, _request: Request) -> None:
        self.in_flight -= 1
        self.last_activity = time.perf_counter()

    def attach(self, page: Page) -> None:
        page.on("request", self.started)
        page.on("requestfinished", self.ended)
        page.on("requestfailed", self.ended)

    def settle(self, page: Page) -> None:
        """Wait (condition: no request in flight and no draw for QUIET_MS) for the change to finish."""
        deadline = time.perf_counter() + TIMEOUT_MS / 1000
        while time.perf_counter() < deadline:
            if self.in_flight <= 0 and (time.perf_counter() - self.last_activity) * 1000 >= QUIET_MS and \
                    page.evaluate(QUIET_DRAWS, QUIET_MS):
                return
            page.wait_for_timeout(25)  # lets playwright deliver events; not a measured wait
        raise TimeoutError("the page never settled")


@dataclass
class Result:
    name: str
    times_ms: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: Path, extra_env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "DASHAPP_WEIGHTS": "random", "DASHAPP_DEVICE": "cpu", "DASHAPP_HOST": "127.0.0.1",
           "DASHAPP_PORT": str(port), "DASHAPP_DATA_DIR": str(data_dir), **extra_env}
    process = subprocess.Popen([sys.executable, "-m", "dashapp"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"python -m dashapp exited with {process.returncode}")
        try:
            if requests.get(url + "/_dash-layout", timeout=2).ok:
                return process, url
        except requests.RequestException:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("python -m dashapp did not start within 180 s")


def forward_pass_ms(repeat: int) -> float:
    from PIL import Image

    from dashapp.analysis.models.capture import forward_only
    from dashapp.analysis.models.registry import ModelRegistry

    loaded = ModelRegistry(("resnet18",), "random", seed=0, device="cpu").get("resnet18")
    image = Image.open(ROOT / "assets" / "examples" / "chelsea.png")
    forward_only(loaded, image)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        forward_only(loaded, image)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def wait_drawn(page: Page, selector: str, count: int, since: float, every: bool = True) -> float:
    handle = page.wait_for_function(DRAWN, arg=[selector, count, since, every], timeout=TIMEOUT_MS, polling="raf")
    return float(handle.json_value())


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


def measure(page: Page, traffic: Traffic, result: Result, act: Callable[[], None], selector: str, count: int) -> None:
    traffic.settle(page)
    before = traffic.updates
    page.evaluate("() => { window.__bench.input = -1; }")
    act()
    since = float(page.evaluate("() => window.__bench.input"))
    if since < 0:
        raise RuntimeError(f"{result.name}: the action raised no input event")
    wait_drawn(page, selector, count, since, every=False)
    traffic.settle(page)
    drawn = float(page.evaluate(LAST_CHANGE, selector))
    result.times_ms.append(drawn - since)
    result.requests.append(traffic.updates - before)


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
    traffic = Traffic()
    traffic.attach(page)
    results: list[Result] = []
    criteria = ["mean", "max", "std", "balanced"]

    # -- heatmaps page
    page.goto(f"{url}/heatmaps?layer={LAYER}")
    wait_drawn(page, HEAT_GRID, 6, 0)
    for i in range(2):  # warm the server cache (every layer of this model and image) and the page
        criterion(page, criteria[i])
        traffic.settle(page)
    criterion(page, "balanced")
    traffic.settle(page)
    res = Result("heatmaps: criterion")
    for i in range(repeat):
        measure(page, traffic, res, lambda c=criteria[i % 4]: criterion(page, c), HEAT_GRID, 6)
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

    # -- grid page
    page.goto(f"{url}/grid?layer={LAYER}")
    wait_drawn(page, GRID, 1, 0)
    traffic.settle(page)
    res = Result("grid: criterion")
    for i in range(repeat):
        measure(page, traffic, res, lambda c=criteria[i % 4]: criterion(page, c), GRID, 1)
    results.append(res)
    results.append(layer_changes(page, traffic, "grid: layer", GRID, 1, repeat))
    criterion(page, "balanced")
    traffic.settle(page)

    # -- detail page
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
        measure(page, traffic, res, lambda c=criteria[i % 4]: criterion(page, c), REGIONS, 1)
    results.append(res)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="times each control change is made")
    parser.add_argument("--visits", type=int, default=3, help="first visits (fresh browser contexts)")
    args = parser.parse_args()

    floor = forward_pass_ms(5)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    server, url = start_server(data_dir, {})
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                # One visit fills the server's cache, so first visits time the page, not a forward pass.
                first_visit(browser, url, f"/heatmaps?layer={LAYER}")
                visits = [first_visit(browser, url, f"/heatmaps?layer={LAYER}") for _ in range(args.visits)]
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                context.add_init_script(INIT_SCRIPT)
                page = context.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                results = run_changes(page, url, args.repeat)
                context.close()
            finally:
                browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"ResNet18 {LAYER}, warm server cache, headless Chromium, python -m dashapp on loopback")
    print(f"floor: bare forward pass (same run)          {floor:7.1f} ms")
    drawn = statistics.median(v[0] for v in visits)
    print(f"first visit, empty browser cache: {statistics.median(v[1] for v in visits) / 1e6:6.2f} MB on the wire, "
          f"heatmaps drawn {drawn:6.0f} ms after navigation ({drawn / floor:4.1f}x forward pass)")
    print(f"second visit, warm browser cache:   heatmaps drawn {statistics.median(v[2] for v in visits):6.0f} ms")
    print("largest first-visit transfers: " + ", ".join(
        f"{size / 1e3:.0f} KB {name.rsplit('/', 1)[-1].split('?')[0]}" for size, name in visits[0][3]))
    print(f"{'control change -> figures drawn':<34} {'median':>8} {'p90':>8} {'x fwd':>6} {'requests':>9}")
    for res in results:
        median = statistics.median(res.times_ms)
        reqs = "/".join(str(r) for r in sorted(set(res.requests)))
        print(f"  {res.name:<32} {median:6.0f}ms {p90(res.times_ms):6.0f}ms {median / floor:6.2f} {reqs:>9}")


if __name__ == "__main__":
    main()
