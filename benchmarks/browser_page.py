"""How the browser benchmark knows a page is drawn, and times a change.

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

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from playwright.sync_api import Page, Request

QUIET_MS = 400
TIMEOUT_MS = 120_000

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


def wait_drawn(page: Page, selector: str, count: int, since: float, every: bool = True) -> float:
    handle = page.wait_for_function(DRAWN, arg=[selector, count, since, every], timeout=TIMEOUT_MS, polling="raf")
    return float(handle.json_value())


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
