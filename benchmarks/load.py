"""Load benchmark: N concurrent clients against the app under gunicorn, on loopback.

    .venv/bin/python benchmarks/load.py -c 32 -t 30
    .venv/bin/python benchmarks/load.py --hostile 0.1

The script starts its own gunicorn (2 workers, seeded random weights, a
temporary data directory; see devtools/servers.py), warms the shared
activation cache with the bundled examples, then runs for ``-t`` seconds:

* ~60 % ``api``: GET /api/analysis on a warm cache (random example, layer,
  criterion and n);
* ~25 % ``dash``: POST /_dash-update-component for the overview page's
  callback (the one whose outputs include ``overview-table.data``), with the
  body a browser would send, built from /_dash-dependencies;
* ~15 % ``cold``: a new random PNG made by the client, uploaded
  (``cold_upload``) then analysed (``cold_analysis``), which runs a forward pass.

``--hostile F`` replaces a fraction F of requests with hostile ones (garbage
bytes, bad parameters, a cloud-metadata URL, over-limit uploads) that must
be refused with a 4xx; they are counted apart from the good requests.

Each client is a thread with its own requests.Session (keep-alive, like a
browser). Everything is on 127.0.0.1, and the run stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from devtools.servers import Access, GunicornServer, random_png, start_gunicorn  # noqa: E402

EXAMPLES = ("chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg")
LAYERS = {
    "resnet18": ("conv1", "layer1.0.conv1", "layer2.0.conv1", "layer3.0.conv1", "layer4.0.conv1", "layer4.1.conv2"),
    "alexnet": ("features.0", "features.3", "features.6", "features.10"),
}
CRITERIA = ("balanced", "mean", "max", "std")
MIX = (("api", 0.60), ("dash", 0.25), ("cold", 0.15))
OVERVIEW_OUTPUT = "overview-table.data"
REQUEST_TIMEOUT_S = 60.0  # the longest any one request may take; bounds the run's overrun
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # the app's default DASHAPP_MAX_UPLOAD_BYTES


@dataclass
class Sample:
    kind: str
    status: int  # 0: no HTTP answer (connection error, timeout)
    seconds: float
    ok: bool
    error: str = ""


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


# --------------------------------------------------------------------------- the Dash request


def overview_callback(server: GunicornServer) -> dict[str, Any]:
    """The dependency entry of the overview page's render callback."""
    layout = requests.get(f"{server.url}/_dash-layout", timeout=30)
    layout.raise_for_status()
    dependencies = requests.get(f"{server.url}/_dash-dependencies", timeout=30)
    dependencies.raise_for_status()
    for entry in dependencies.json():
        if OVERVIEW_OUTPUT in split_outputs(entry["output"]):
            return dict(entry)
    raise SystemExit(f"no callback in /_dash-dependencies outputs {OVERVIEW_OUTPUT}")


def split_outputs(output: str) -> list[str]:
    """Dash's output string: ``id.prop`` or ``..id.prop...id.prop..`` for several."""
    if output.startswith("..") and output.endswith(".."):
        return output[2:-2].split("...")
    return [output]


def ready_state(sha: str, layer: str = "layer2.0.conv1") -> dict[str, Any]:
    return {"image": sha, "model": "resnet18", "layer": layer, "criterion": "balanced", "n": 6,
            "min_sparsity": 0.15, "weight": 0.5, "filter": None, "cls": None}


def dash_body(callback: dict[str, Any], ready: dict[str, Any]) -> dict[str, Any]:
    """The body dash-renderer posts when ``ready-state.data`` changes."""
    outputs = []
    for item in split_outputs(callback["output"]):
        component, prop = item.rsplit(".", 1)
        outputs.append({"id": component, "property": prop})
    inputs = []
    for spec in callback["inputs"]:
        value = ready if (spec["id"], spec["property"]) == ("ready-state", "data") else None
        inputs.append({"id": spec["id"], "property": spec["property"], "value": value})
    return {
        "output": callback["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": inputs,
        "changedPropIds": ["ready-state.data"],
        "state": [{"id": spec["id"], "property": spec["property"]} for spec in callback.get("state", [])],
    }


def table_rows(response: requests.Response) -> list[dict[str, Any]]:
    return list(response.json()["response"]["overview-table"]["data"])


# --------------------------------------------------------------------------- clients


class Client:
    def __init__(self, server: GunicornServer, shas: list[str], callback: dict[str, Any], hostile: float,
                 recorder: Recorder, deadline: float, seed: int) -> None:
        self.server = server
        self.shas = shas
        self.callback = callback
        self.hostile = hostile
        self.recorder = recorder
        self.deadline = deadline
        self.random = random.Random(seed)
        self.session = requests.Session()
        self.mix = MIX

    def timed(self, kind: str, send: Callable[[], requests.Response], good: Callable[[requests.Response], bool]) -> \
            requests.Response | None:
        started = time.perf_counter()
        try:
            response = send()
        except requests.RequestException as exc:
            self.recorder.add(Sample(kind, 0, time.perf_counter() - started, False, type(exc).__name__))
            return None
        seconds = time.perf_counter() - started
        ok = good(response)
        self.recorder.add(Sample(kind, response.status_code, seconds, ok, "" if ok else response.text[:200]))
        return response

    def run(self) -> None:
        try:
            while time.monotonic() < self.deadline:
                if self.hostile and self.random.random() < self.hostile:
                    self.hostile_request()
                    continue
                kind = self.random.choices([k for k, _ in self.mix], [w for _, w in self.mix])[0]
                getattr(self, kind)()
        finally:
            self.session.close()

    def analysis(self, kind: str, sha: str, model: str, layer: str) -> None:
        params = {"image": sha, "model": model, "layer": layer, "criterion": self.random.choice(CRITERIA),
                  "n": self.random.randint(1, 12)}
        self.timed(kind, lambda: self.session.get(f"{self.server.url}/api/analysis", params=params,
                                                  timeout=REQUEST_TIMEOUT_S),
                   lambda r: r.status_code == 200 and bool(r.json()["ranking"]["filters"]))

    def api(self) -> None:
        model = self.random.choice(list(LAYERS))
        self.analysis("api", self.random.choice(self.shas), model, self.random.choice(LAYERS[model]))

    def dash(self) -> None:
        body = dash_body(self.callback, ready_state(self.random.choice(self.shas),
                                                    self.random.choice(LAYERS["resnet18"])))
        self.timed("dash", lambda: self.session.post(f"{self.server.url}/_dash-update-component", json=body,
                                                     timeout=REQUEST_TIMEOUT_S),
                   lambda r: r.status_code == 200 and len(table_rows(r)) == 6)

    def cold(self) -> None:
        data = random_png(self.random.getrandbits(63), self.random.randint(64, 200), self.random.randint(64, 200))
        response = self.timed(
            "cold_upload",
            lambda: self.session.post(f"{self.server.url}/api/images", files={"file": ("new.png", data, "image/png")},
                                      timeout=REQUEST_TIMEOUT_S),
            lambda r: r.status_code == 201,
        )
        if response is not None and response.status_code == 201:
            model = self.random.choice(list(LAYERS))
            self.analysis("cold_analysis", response.json()["sha256"], model, self.random.choice(LAYERS[model]))

    def hostile_request(self) -> None:
        """One request that must be refused with a 4xx JSON error."""
        sha = self.random.choice(self.shas)
        choice = self.random.randrange(7)
        method, path = "GET", "/api/analysis"
        options: dict[str, Any] = {}
        if choice == 0:
            garbage = self.random.randbytes(self.random.randint(1, 64 * 1024))
            method, path, options = "POST", "/api/images", {"files": {"file": ("x.png", garbage, "image/png")}}
        elif choice == 1:
            options = {"params": {"image": sha, "model": "resnet18", "layer": "conv1", "n": "lots"}}
        elif choice == 2:
            options = {"params": {"image": sha, "model": "resnet18", "layer": "../../etc/passwd"}}
        elif choice == 3:
            options = {"params": {"image": "f" * 64, "model": "alexnet", "layer": "features.0", "min_sparsity": "inf"}}
        elif choice == 4:
            target = self.random.choice(["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:22/",
                                         "file:///etc/passwd", "http://[::1]/", "http://10.0.0.1/x.png"])
            method, path, options = "POST", "/api/images", {"json": {"url": target}}
        elif choice == 5:
            # Just over the upload limit: read, then refused by the app.
            method, path = "POST", "/api/images"
            options = {"data": OVER_LIMIT, "headers": {"Content-Type": "application/octet-stream"}}
        else:
            # Far over it: Flask refuses on the Content-Length alone.
            method, path, options = "POST", "/api/images", {"files": {"file": ("huge.png", HUGE, "image/png")}}
        self.timed("hostile",
                   lambda: self.session.request(method, f"{self.server.url}{path}", timeout=REQUEST_TIMEOUT_S,
                                                **options),
                   lambda r: 400 <= r.status_code < 500
                   and r.headers.get("Content-Type", "").startswith("application/json"))


OVER_LIMIT = b"\x89PNG\r\n\x1a\n" + os.urandom(MAX_UPLOAD_BYTES)
HUGE = os.urandom(MAX_UPLOAD_BYTES * 2)


# --------------------------------------------------------------------------- report


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def latency_line(name: str, samples: list[Sample], elapsed: float) -> str:
    values = sorted(sample.seconds * 1000 for sample in samples)
    failed = sum(not sample.ok for sample in samples)
    worst = max(values, default=float("nan"))
    return (f"  {name:<14} {len(samples):>7} {len(samples) / elapsed:>8.1f} {failed:>7} "
            f"{percentile(values, 0.5):>9.1f} {percentile(values, 0.95):>9.1f} {worst:>9.1f}")


def in_app_lines(entries: list[Access]) -> list[str]:
    """Per route, the time a worker thread spent on each request (gunicorn's
    access log, ``%(M)s``: from the thread taking the request to the response
    written). What a client waited beyond it was spent queueing for a thread."""
    by_route: dict[tuple[str, str], list[float]] = defaultdict(list)
    for entry in entries:
        by_route[(entry.method, entry.path)].append(float(entry.ms))
    lines = []
    for (method, path), values in sorted(by_route.items(), key=lambda item: -len(item[1])):
        values.sort()
        lines.append(f"  {method + ' ' + path:<36} {len(values):>7} {percentile(values, 0.5):>9.0f} "
                     f"{percentile(values, 0.95):>9.0f}")
    return lines


def report(samples: list[Sample], elapsed: float, server: GunicornServer, hostile: float,
           entries: list[Access]) -> None:
    good = [s for s in samples if s.kind != "hostile"]
    bad = [s for s in samples if s.kind == "hostile"]
    print(f"\n{len(samples)} requests in {elapsed:.1f} s: {len(samples) / elapsed:.1f} requests/s "
          f"({len(good) / elapsed:.1f}/s good{f', {len(bad) / elapsed:.1f}/s hostile' if hostile else ''})")
    print(f"  {'kind':<14} {'count':>7} {'req/s':>8} {'errors':>7} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}")
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_kind[sample.kind].append(sample)
    for kind in ("api", "dash", "cold_upload", "cold_analysis", "hostile"):
        if by_kind.get(kind):
            print(latency_line(kind, by_kind[kind], elapsed))
    warm = by_kind["api"] + by_kind["dash"]
    cold = by_kind["cold_upload"] + by_kind["cold_analysis"]
    print(latency_line("warm", warm, elapsed))
    print(latency_line("cold", cold, elapsed))
    print(latency_line("all good", good, elapsed))

    good_errors = [s for s in good if not s.ok]
    print(f"\ngood-request errors: {len(good_errors)} of {len(good)}")
    for (kind, status, error), count in sorted(_group(good_errors).items(), key=lambda item: -item[1])[:10]:
        print(f"  {count:>5} x {kind} status={status} {error[:120]!r}")
    if hostile:
        refused = sum(s.ok for s in bad)
        statuses: dict[int, int] = defaultdict(int)
        for sample in bad:
            statuses[sample.status] += 1
        print(f"hostile requests: {len(bad)}, refused with a 4xx JSON error: {refused}, "
              f"not refused properly: {len(bad) - refused}; statuses {dict(sorted(statuses.items()))}")
        for (kind, status, error), count in sorted(_group([s for s in bad if not s.ok]).items(),
                                                   key=lambda item: -item[1])[:10]:
            print(f"  {count:>5} x {kind} status={status} {error[:120]!r}")

    print(f"\ntime in the app, per route (gunicorn's access log; the rest of a client's wait was queueing)\n"
          f"  {'route':<36} {'count':>7} {'p50 ms':>9} {'p95 ms':>9}")
    print("\n".join(in_app_lines(entries)))

    print("\nworkers at the end:")
    stats = server.worker_stats()
    for pid in server.worker_pids():
        memory = psutil.Process(pid).memory_full_info()
        rss, uss, pss = memory.rss / 2**20, memory.uss / 2**20, memory.pss / 2**20
        answer = stats.get(pid, {})
        models = answer.get("models", {})
        # USS: memory only this worker holds; RSS also counts shared library pages
        # (the CUDA build of torch maps several hundred MiB of them) in full;
        # PSS counts each shared page divided by the processes sharing it, so
        # the workers' PSS add up to what they cost the machine together.
        print(f"  pid {pid}: RSS {rss:,.0f} MiB, PSS {pss:,.0f} MiB, USS {uss:,.0f} MiB; "
              f"models loaded {json.dumps(models, sort_keys=True)}; "
              f"cache {json.dumps(answer.get('cache', {}), sort_keys=True)}")
    master_rss = psutil.Process(server.master_pid).memory_info().rss / 2**20
    print(f"  master pid {server.master_pid}: RSS {master_rss:,.0f} MiB")
    both = all(all(answer["models"].values()) for answer in stats.values())
    print(f"both models loaded in every worker: {'yes' if both else 'no'}")
    log = server.logs(100_000)
    print(f"server log: {log.count('Traceback')} tracebacks, {log.count('WORKER TIMEOUT')} worker timeouts, "
          f"{log.count('Booting worker')} worker boots")
    if "Traceback" in log:
        # The first one, for whoever reads the run: the temporary directory goes away.
        lines = log[log.index("Traceback") :].splitlines()
        end = next((i for i, line in enumerate(lines[1:], 1) if not line.startswith((" ", "Traceback"))), 0)
        print("first traceback:\n" + "\n".join(lines[: end + 1][-30:]))


def _group(samples: list[Sample]) -> dict[tuple[str, int, str], int]:
    groups: dict[tuple[str, int, str], int] = defaultdict(int)
    for sample in samples:
        groups[(sample.kind, sample.status, sample.error)] += 1
    return groups


# --------------------------------------------------------------------------- main


def warm_up(server: GunicornServer) -> list[str]:
    """Store the examples and fill the shared cache for every layer of interest."""
    shas = []
    session = requests.Session()
    for name in EXAMPLES:
        data = (REPO_ROOT / "assets" / "examples" / name).read_bytes()
        response = session.post(f"{server.url}/api/images", files={"file": (name, data)}, timeout=120)
        response.raise_for_status()
        shas.append(response.json()["sha256"])
    for sha in shas:
        for model, layers in LAYERS.items():
            for layer in layers:
                response = session.get(f"{server.url}/api/analysis",
                                       params={"image": sha, "model": model, "layer": layer}, timeout=120)
                response.raise_for_status()
    session.close()
    # Load the models in every worker too, one request at a time: the numbers
    # below are for a warm server, and concurrent first loads in one worker
    # can race (torch.fx tracing patches nn.Module.__call__ process-wide).
    # Fresh connections let the kernel pick the worker.
    deadline = time.monotonic() + 120

    def all_loaded() -> bool:
        requests.get(f"{server.url}/api/models", timeout=120).raise_for_status()
        return all(all(answer["models"].values()) for answer in server.worker_stats().values())

    while not all_loaded():
        if time.monotonic() > deadline:
            raise SystemExit("the models did not load in every worker within 120 s")
    return shas


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-c", "--clients", type=int, default=32, help="concurrent clients (threads)")
    parser.add_argument("-t", "--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("-w", "--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--hostile", type=float, default=0.0, help="fraction of hostile requests, e.g. 0.1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--new-images", type=float, default=None,
                        help="share of requests that upload and analyse a new image (default 0.15); 0 = warm only")
    parser.add_argument("--gunicorn-args", default="",
                        help="extra gunicorn flags, e.g. '--max-requests 300 --max-requests-jitter 30'")
    args = parser.parse_args(argv)
    if not 0 <= args.hostile < 1 or args.clients < 1 or not 0 < args.duration <= 3600:
        parser.error("need 0 <= --hostile < 1, --clients >= 1, 0 < --duration <= 3600")

    with tempfile.TemporaryDirectory(prefix="dashapp-load-") as tmp:
        started = time.monotonic()
        server = start_gunicorn(workers=args.workers, tmp_dir=Path(tmp),
                                extra_args=tuple(shlex.split(args.gunicorn_args)))
        try:
            print(f"gunicorn with {args.workers} workers ready at {server.url} in {time.monotonic() - started:.1f} s "
                  f"(pids {server.worker_pids()}); cpus: {os.cpu_count()}")
            started = time.monotonic()
            shas = warm_up(server)
            print(f"warmed {len(shas)} examples x {sum(map(len, LAYERS.values()))} layers "
                  f"in {time.monotonic() - started:.1f} s")
            callback = overview_callback(server)
            check = requests.post(f"{server.url}/_dash-update-component",
                                  json=dash_body(callback, ready_state(shas[0])), timeout=60)
            if check.status_code != 200 or len(table_rows(check)) != 6:
                print(f"the overview callback request failed: {check.status_code} {check.text[:500]}")
                return 1
            print(f"overview callback ok: {len(table_rows(check))} table rows, "
                  f"top filter {table_rows(check)[0]['index']}")

            recorder = Recorder()
            deadline = time.monotonic() + args.duration
            mix = MIX if args.new_images is None else (
                ("api", 0.6 / 0.85 * (1 - args.new_images)), ("dash", 0.25 / 0.85 * (1 - args.new_images)),
                ("cold", args.new_images))
            clients = [Client(server, shas, callback, args.hostile, recorder, deadline, args.seed * 1000 + i)
                       for i in range(args.clients)]
            for client in clients:
                client.mix = mix
            threads = [threading.Thread(target=client.run, daemon=True) for client in clients]
            print(f"{args.clients} clients for {args.duration:.0f} s"
                  f"{f', {args.hostile:.0%} hostile' if args.hostile else ''} ...", flush=True)
            served_before = len(server.access_entries())  # the warm-up's requests are not in the figures
            load_started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=max(0.0, deadline - time.monotonic()) + REQUEST_TIMEOUT_S + 5)
            elapsed = time.monotonic() - load_started
            with recorder.lock:
                samples = list(recorder.samples)
            # The clients' requests only (worker_stats' probes carry an X-Probe header).
            entries = [entry for entry in server.access_entries()[served_before:] if entry.probe == "-"]
            report(samples, elapsed, server, args.hostile, entries)
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
