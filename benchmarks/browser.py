"""Browser benchmark: speed as the user feels it, in real headless Chromium.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/browser.py [--repeat 7] [--visits 3] [--only first]

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

``--only first`` times the first visits alone (``benchmarks/browser_timeline.py``
breaks one down request by request). ``--baseline DIR`` starts a second server
from another checkout of the app (``git archive <commit> | tar -x -C DIR``) and
alternates first visits between the two, so both see the same machine load;
it prints both medians and the median of the pairs' ratios.

The page instrumentation (what "drawn" means, how a change is timed) is in
``browser_page.py``; the changes themselves in ``browser_changes.py``.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests
from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.browser_changes import LAYER, first_visit, run_changes  # noqa: E402
from benchmarks.browser_page import INIT_SCRIPT, TIMEOUT_MS, Result  # noqa: E402
from devtools.processes import scratch_dir  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: Path, extra_env: dict[str, str], root: Path = ROOT) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "DASHAPP_WEIGHTS": "random", "DASHAPP_DEVICE": "cpu", "DASHAPP_HOST": "127.0.0.1",
           "DASHAPP_PORT": str(port), "DASHAPP_DATA_DIR": str(data_dir), **extra_env}
    process = subprocess.Popen([sys.executable, "-m", "dashapp"], cwd=root, env=env,
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


def compare_first_visits(baseline: Path, visits: int) -> None:
    servers = []
    try:
        for root in (baseline, ROOT):
            servers.append(start_server(scratch_dir("bench-browser-"), {}, root))
        times: dict[str, list[float]] = {"baseline": [], "this tree": []}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for _process, url in servers:
                    first_visit(browser, url, f"/heatmaps?layer={LAYER}")  # each server's cache
                for _ in range(visits):
                    for name, (_process, url) in zip(times, servers, strict=True):
                        times[name].append(first_visit(browser, url, f"/heatmaps?layer={LAYER}")[0])
            finally:
                browser.close()
    finally:
        for process, _url in servers:
            process.terminate()
            process.wait(timeout=30)
    print(f"first visit of /heatmaps?layer={LAYER}, empty browser cache, heatmaps drawn (ms after navigation),")
    print(f"alternating between {baseline} and {ROOT}; load average {os.getloadavg()[0]:.2f} at the end")
    for name, values in times.items():
        print(f"  {name:<10} median {statistics.median(values):6.0f}  " + " ".join(f"{v:.0f}" for v in values))
    ratios = [mine / base for base, mine in zip(times["baseline"], times["this tree"], strict=True)]
    print(f"  this tree / baseline, median of the pairs: {statistics.median(ratios):.2f}")


def changes(browser: Browser, url: str, repeat: int) -> list[Result]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(INIT_SCRIPT)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    results = run_changes(page, url, repeat)
    context.close()
    return results


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="times each control change is made")
    parser.add_argument("--visits", type=int, default=3, help="first visits (fresh browser contexts)")
    parser.add_argument("--only", choices=["first"], help="time the first visits only, no control changes")
    parser.add_argument("--baseline", type=Path, help="another checkout: first visits alternate with its server")
    args = parser.parse_args()
    if args.baseline:
        compare_first_visits(args.baseline, args.visits)
        return

    floor = forward_pass_ms(5)
    data_dir = scratch_dir("bench-browser-")
    server, url = start_server(data_dir, {})
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                # One visit fills the server's cache, so first visits time the page, not a forward pass.
                first_visit(browser, url, f"/heatmaps?layer={LAYER}")
                visits = [first_visit(browser, url, f"/heatmaps?layer={LAYER}") for _ in range(args.visits)]
                results = [] if args.only == "first" else changes(browser, url, args.repeat)
            finally:
                browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"ResNet18 {LAYER}, warm server cache, headless Chromium, python -m dashapp on loopback")
    print(f"floor: bare forward pass (same run)          {floor:7.1f} ms")
    drawn = statistics.median(v[0] for v in visits)
    print("first visits, heatmaps drawn (ms): " + ", ".join(f"{v[0]:.0f}" for v in visits))
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
