"""Load benchmark: N concurrent clients against the app under gunicorn, on loopback.

    .venv/bin/python benchmarks/load.py -c 32 -t 30
    .venv/bin/python benchmarks/load.py --hostile 0.1
    .venv/bin/python benchmarks/load.py -c 32 -t 30 --new 0.05   # issue 26's mix

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
  ``--new F`` sets this share (the other two keep their ratio).

Besides latency per kind (and warm p95, new-image p95 on one line), it prints
each worker's peak proportional set size during the run, sampled from
/proc/<pid>/smaps_rollup every half second.

``--hostile F`` replaces a fraction F of requests with hostile ones (garbage
bytes, bad parameters, a cloud-metadata URL, over-limit uploads) that must
be refused with a 4xx; they are counted apart from the good requests.

Each client is a thread with its own requests.Session (keep-alive, like a
browser). Everything is on 127.0.0.1, and the run stops by itself.

(What the clients send: ``load_clients.py``; what is printed: ``load_report.py``.)
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.load_clients import (  # noqa: E402
    LAYERS,
    MIX,
    REQUEST_TIMEOUT_S,
    Client,
    Recorder,
    dash_body,
    overview_callback,
    ready_state,
    table_rows,
)
from benchmarks.load_report import PssSampler, report  # noqa: E402
from devtools.servers import GunicornServer, start_gunicorn  # noqa: E402

EXAMPLES = ("chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg")


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
    parser.add_argument("--new", "--new-images", dest="new_images", type=float, default=None,
                        help="share of requests that upload and analyse a new image (default 0.15; issue 26's "
                             "mix: 0.05); 0 = warm only")
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
            with PssSampler(server.worker_pids()) as pss:
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=max(0.0, deadline - time.monotonic()) + REQUEST_TIMEOUT_S + 5)
            elapsed = time.monotonic() - load_started
            with recorder.lock:
                samples = list(recorder.samples)
            # The clients' requests only (worker_stats' probes carry an X-Probe header).
            entries = [entry for entry in server.access_entries()[served_before:] if entry.probe == "-"]
            report(samples, elapsed, server, args.hostile, entries, pss)
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
