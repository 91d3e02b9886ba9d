"""The first visit of /heatmaps as a timeline: every request, script and callback.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/browser_timeline.py [--visits 1]

Starts ``python -m dashapp`` as ``benchmarks/browser.py`` does, fills the
server's cache with one visit, then opens /heatmaps in a fresh browser context
(empty cache) and prints, in ms after navigation start: each request's start
and end (Resource Timing, and for ``/_dash-update-component`` the callback's
outputs from the request body), the main thread's script evaluation and
compilation by script (a CDP trace), long tasks, and when the six heatmaps
were drawn (``browser_page.py``'s stamps).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import dash
from playwright.sync_api import Browser, Request, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.browser import CHROMIUM, CHROMIUM_ARGS, start_server  # noqa: E402
from benchmarks.browser_changes import HEAT_GRID, LAYER, first_visit  # noqa: E402
from benchmarks.browser_page import INIT_SCRIPT, LAST_DRAW, Traffic, wait_drawn  # noqa: E402
from devtools.processes import scratch_dir  # noqa: E402

RESOURCES = """() => performance.getEntriesByType("resource").map(e => ({
  name: e.name, start: e.startTime, requestStart: e.requestStart, responseStart: e.responseStart,
  end: e.responseEnd, size: e.encodedBodySize, server: (e.serverTiming || []).map(s => s.duration)}))"""
NAVIGATION = """() => { const n = performance.getEntriesByType("navigation")[0];
  return {responseEnd: n.responseEnd, domInteractive: n.domInteractive,
          domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd}; }"""
# Long tasks since navigation start, collected by an observer the init script installs.
LONG_TASKS = """
(() => {
  window.__longTasks = [];
  try {
    new PerformanceObserver(list => { for (const e of list.getEntries()) {
      window.__longTasks.push([e.startTime, e.duration]); } }).observe({type: "longtask", buffered: true});
  } catch (e) { /* not supported */ }
})();
"""
DEV_RENDERER = Path(dash.__file__).parent / "dash-renderer" / "build" / "dash_renderer.dev.js"
TRACE_CATEGORIES = "devtools.timeline,v8,blink.user_timing,loading,disabled-by-default-devtools.timeline"


def outputs_of(request: Request) -> str:
    try:
        body = request.post_data_json or {}
    except (ValueError, TypeError):
        return "?"
    output = str(body.get("output", "?"))
    return output if len(output) < 140 else output[:137] + "..."


def script_times(events: list[dict[str, Any]], origin_ts: float) -> list[tuple[float, float, str, str]]:
    """(start ms, duration ms, kind, url) of each script evaluation / compile on the main thread."""
    rows = []
    for event in events:
        name = event.get("name")
        if name not in ("EvaluateScript", "v8.compile", "FunctionCall", "v8.evaluateModule") or event.get("ph") != "X":
            continue
        data = (event.get("args") or {}).get("data") or {}
        url = data.get("url") or data.get("fileName") or ""
        duration = event.get("dur", 0) / 1000
        if duration < 5:
            continue
        rows.append(((event["ts"] - origin_ts) / 1000, duration, str(name), str(url)))
    return sorted(rows)


def timeline(browser: Browser, url: str, path: str, dev_renderer: bool = False) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(INIT_SCRIPT + LONG_TASKS)
    page = context.new_page()
    if dev_renderer:  # Dash's unminified renderer, for a profile with its functions' names
        page.route("**/dash_renderer.v*.min.js", lambda route: route.fulfill(
            path=str(DEV_RENDERER), content_type="application/javascript"))
    cdp = context.new_cdp_session(page)
    bodies: dict[str, list[str]] = {}

    def started(request: Request) -> None:
        if "/_dash-update-component" in request.url:
            bodies.setdefault(request.url, []).append(outputs_of(request))

    page.on("request", started)
    traffic = Traffic()
    traffic.attach(page)
    events: list[dict[str, Any]] = []
    cdp.on("Tracing.dataCollected", lambda e: events.extend(e["value"]))
    done: list[bool] = []
    cdp.on("Tracing.tracingComplete", lambda _e: done.append(True))
    cdp.send("Tracing.start", {"categories": TRACE_CATEGORIES, "transferMode": "ReportEvents"})
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 200})
    cdp.send("Profiler.start")
    page.goto(url + path)
    wait_drawn(page, HEAT_GRID, 6, 0)
    traffic.settle(page)
    drawn = float(page.evaluate(LAST_DRAW, HEAT_GRID))
    profile = cdp.send("Profiler.stop")["profile"]
    cdp.send("Tracing.end")
    while not done:
        page.wait_for_timeout(50)
    resources = page.evaluate(RESOURCES)
    navigation = page.evaluate(NAVIGATION)
    long_tasks = page.evaluate("() => window.__longTasks")
    draws = page.evaluate("sel => Array.from(document.querySelectorAll(sel)).map(g => g.__drawnAt)", HEAT_GRID)
    context.close()
    # The trace's navigation start: the main frame's "navigationStart" mark.
    starts = [e["ts"] for e in events if e.get("name") == "navigationStart"]
    scripts = script_times(events, min(starts)) if starts else []
    updates = iter([outputs for sent in bodies.values() for outputs in sent])
    for res in resources:
        res["outputs"] = next(updates, "?") if "/_dash-update-component" in res["name"] else ""
    return {"drawn": drawn, "draws": draws, "navigation": navigation, "resources": resources,
            "scripts": scripts, "long_tasks": long_tasks, "origin_ts": min(starts) if starts else 0,
            "trace": events, "profile": profile}


def short(name: str) -> str:
    return name.split("//", 1)[-1].split("/", 1)[-1].split("?")[0][-60:]


def report(result: dict[str, Any]) -> None:
    nav = result["navigation"]
    print(f"HTML responseEnd {nav['responseEnd']:.0f} ms, domInteractive {nav['domInteractive']:.0f}, "
          f"DOMContentLoaded {nav['domContentLoaded']:.0f}, load {nav['load']:.0f}")
    print(f"{'start':>6} {'reqSt':>6} {'resp':>6} {'end':>6} {'KB':>6}  request")
    for res in sorted(result["resources"], key=lambda r: r["start"]):
        print(f"{res['start']:6.0f} {res['requestStart']:6.0f} {res['responseStart']:6.0f} {res['end']:6.0f} "
              f"{res['size'] / 1e3:6.1f}  {short(res['name'])} {res['outputs']}")
    print("script evaluation / compile on the main thread (>= 5 ms):")
    for start, duration, kind, name in result["scripts"]:
        print(f"{start:6.0f} {duration:6.0f} ms {kind:<16} {short(name)}")
    print("long tasks (start, ms): " + ", ".join(f"{s:.0f}+{d:.0f}" for s, d in result["long_tasks"]))
    print("heatmaps drawn at: " + ", ".join(f"{d:.0f}" for d in result["draws"]) + f"  -> {result['drawn']:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visits", type=int, default=1, help="first visits to trace (fresh contexts)")
    parser.add_argument("--json", type=Path, help="also write the raw timelines here (with the trace and profile)")
    parser.add_argument("--dev-renderer", action="store_true", help="serve Dash's unminified renderer (names)")
    args = parser.parse_args()
    data_dir = scratch_dir("bench-timeline-")
    server, url = start_server(data_dir, {"DASHAPP_DEBUG": "true"})
    results = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                first_visit(browser, url, f"/heatmaps?layer={LAYER}")  # fills the server's cache
                for _ in range(args.visits):
                    results.append(timeline(browser, url, f"/heatmaps?layer={LAYER}", args.dev_renderer))
                    report(results[-1])
            finally:
                browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    if args.json:
        args.json.write_text(json.dumps(results))


if __name__ == "__main__":
    main()
