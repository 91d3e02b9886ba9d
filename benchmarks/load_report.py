"""The load benchmark's report: latency per kind of request, errors, time in
the app per route (gunicorn's access log), and the workers' memory."""

from __future__ import annotations

import json
import threading
from collections import defaultdict

import psutil

from benchmarks.load_clients import Sample
from devtools.servers import Access, GunicornServer


class PssSampler:
    """Each worker's proportional set size (``Pss:`` in /proc/<pid>/smaps_rollup),
    sampled every ``interval_s`` from a background thread; the peak per pid.
    PSS counts a page shared by k processes as 1/k, so the workers' figures
    add up to what they cost the machine together."""

    def __init__(self, pids: list[int], interval_s: float = 0.5) -> None:
        self.pids = pids
        self.interval_s = interval_s
        self.peak_mib: dict[int, float] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pss-sampler", daemon=True)

    @staticmethod
    def pss_mib(pid: int) -> float | None:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        return int(line.split()[1]) / 1024
        except OSError:  # the worker exited (recycled) or no /proc
            return None
        return None

    def sample(self) -> None:
        for pid in self.pids:
            pss = self.pss_mib(pid)
            if pss is not None:
                self.peak_mib[pid] = max(pss, self.peak_mib.get(pid, 0.0))
        self.samples += 1

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def __enter__(self) -> PssSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def line(self) -> str:
        peaks = ", ".join(f"pid {pid} {mib:,.0f} MiB" for pid, mib in sorted(self.peak_mib.items()))
        return f"peak PSS per worker during the run ({self.samples} samples, every {self.interval_s:g} s): {peaks}"


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
           entries: list[Access], pss: PssSampler | None = None) -> None:
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
    p95 = {name: percentile(sorted(s.seconds * 1000 for s in group), 0.95)
           for name, group in (("warm", warm), ("upload", by_kind["cold_upload"]),
                               ("analysis", by_kind["cold_analysis"]))}
    print(f"warm p95 {p95['warm']:.0f} ms; new images ({len(by_kind['cold_analysis'])}): analysis p95 "
          f"{p95['analysis']:.0f} ms, upload p95 {p95['upload']:.0f} ms")
    if pss is not None:
        print(pss.line())

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
