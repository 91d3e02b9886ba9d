"""Circuits and channel attribution benchmark: the issue's Speed targets as
ratios measured in one run.

    .venv/bin/python benchmarks/circuits.py [--repeat 5] [--model resnet18]

Prints, as medians over --repeat runs:

- a bare forward pass (the floor) and a warm ``/api/analysis``;
- a cold circuit (the analysis of one filter: its one forward pass) and a
  warm ``/api/circuit`` and ``/api/attribution`` (from this worker's memo),
  each as a ratio to a warm ``/api/analysis`` (target <= 2x);
- the same two answers read by another worker from the shared store (a
  second Analyzer over the same backend, its memo emptied before each read);
- a cold gradient x activation (target <= 3x a forward pass) at the model's
  default evidence layer, at an early block and at the first conv inside
  the network (ResNet18: layer4, layer1.0, layer1.0.conv1), and integrated
  gradients at 32 steps (target <= 40x) at the first two; also both at
  layer1.0 in a process that has not yet computed that layer's baseline
  (``attribution/baselines.py`` keeps what does not depend on the image).

Every ratio is paired: each run of a figure follows three runs of its base
(the forward pass, or a warm ``/api/analysis``) measured right before it,
and the ratio printed is the median over runs of (the run / the median of
its three), so a load that changes during the benchmark moves both sides.
Beside the wall-clock ratio, the same ratio in this process's CPU time
(``process_time``: what the work costs, whatever the other processes on
the machine do).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.engine import EXAMPLE
from dashapp import create_app
from dashapp.analysis.attribution.baselines import forget
from dashapp.analysis.attribution.channels import channel_attribution
from dashapp.analysis.circuits.circuit import circuit
from dashapp.analysis.models.capture import forward_only
from dashapp.config.settings import Settings
from dashapp.service import Analyzer, circuits
from dashapp.service.memo import Memo
from devtools.processes import scratch_dir


@dataclass(frozen=True)
class Figure:
    seconds: float  # the median run, wall clock
    base_seconds: float  # the median of the base's runs beside it
    ratio: float  # median over runs of (run / its base), wall clock
    cpu_ratio: float  # the same in this process's CPU time


def paired(func: Callable[[], object], base: Callable[[], object], repeat: int,
           before: Callable[[], object] | None = None) -> Figure:
    """``func`` ``repeat`` times, each run right after three runs of ``base`` (``before`` untimed first)."""
    func()  # warm: the first call of a kind allocates what later calls reuse
    runs, bases, ratios, cpu_ratios = [], [], [], []
    for _ in range(repeat):
        wall, cpu = [], []
        for _ in range(3):
            start, start_cpu = time.perf_counter(), time.process_time()
            base()
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        if before is not None:
            before()
        start, start_cpu = time.perf_counter(), time.process_time()
        func()
        run, run_cpu = time.perf_counter() - start, time.process_time() - start_cpu
        runs.append(run)
        bases.append(statistics.median(wall))
        ratios.append(run / statistics.median(wall))
        cpu_ratios.append(run_cpu / max(statistics.median(cpu), 1e-9))
    return Figure(statistics.median(runs), statistics.median(bases), statistics.median(ratios),
                  statistics.median(cpu_ratios))


def line(name: str, figure: Figure, base_name: str, target: str = "") -> None:
    print(f"{name:<66} {figure.seconds * 1000:8.1f} ms  {figure.ratio:6.2f}x {base_name:<13} "
          f"(cpu {figure.cpu_ratio:5.2f}x; base {figure.base_seconds * 1000:6.1f} ms)  {target}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--model", default="resnet18")
    args = parser.parse_args()
    settings = Settings(data_dir=scratch_dir("bench-circuits-"), weights="random", device="cpu")
    analyzer = Analyzer(settings)
    client = create_app(settings, analyzer).server.test_client()
    loaded = analyzer.models.model(args.model)
    image = Image.open(EXAMPLE).convert("RGB")
    sha = client.post("/api/images", data=EXAMPLE.read_bytes(), content_type="image/png").get_json()["sha256"]
    layers = list(loaded.layers)
    layer = layers[len(layers) // 3]
    deep = loaded.default_evidence_layer
    early = next(e.name for e in loaded.evidence_layers() if e.kind == "block") if loaded.blocks else layers[1]
    early_conv = layers[1]
    forward_only(loaded, image)  # warm up threads and the allocator

    def get(url: str) -> None:
        answer = client.get(url)
        assert answer.status_code == 200, answer.get_json()

    base = f"/api/{{}}?image={sha}&model={args.model}"
    analysis_url = base.format("analysis") + f"&layer={layer}&n=6"
    circuit_url = base.format("circuit") + f"&layer={layer}&filter=3&k=10"
    attribution_url = base.format("attribution") + f"&layer={deep}&class=281&method=gradxact&k=10"
    for url in (analysis_url, circuit_url, attribution_url):
        get(url)  # each answer computed once, then warm
    other = Analyzer(settings, registry=analyzer.registry, backend=analyzer.activations.backend)

    def store_circuit_answer() -> None:
        other.memo = Memo(max_bytes=32 * 1024 * 1024)  # another worker: nothing in its memo
        circuits.circuit_answer(circuits.filter_circuit(other, sha, args.model, layer, 3), k=10)

    def store_attribution_answer() -> None:
        other.memo = Memo(max_bytes=32 * 1024 * 1024)
        circuits.attribution_answer(circuits.attribution(other, sha, args.model, deep, 281, "gradxact"), k=10)

    def forward() -> None:
        forward_only(loaded, image)

    def analysis() -> None:
        get(analysis_url)

    def new_process() -> None:
        forget(loaded.module)

    print(f"model {args.model}, device {loaded.device}, median of {args.repeat} paired runs, one process")
    line("warm /api/analysis", paired(analysis, forward, args.repeat), "forward")
    line(f"warm /api/circuit ({layer})", paired(partial(get, circuit_url), analysis, args.repeat),
         "warm analysis", "(target <= 2x)")
    line(f"warm /api/attribution ({deep}, gradxact)", paired(partial(get, attribution_url), analysis, args.repeat),
         "warm analysis", "(target <= 2x)")
    line(f"another worker's /api/circuit from the store ({layer})", paired(store_circuit_answer, analysis,
         args.repeat), "warm analysis")
    line(f"another worker's /api/attribution from the store ({deep})", paired(store_attribution_answer, analysis,
         args.repeat), "warm analysis")
    line(f"cold circuit ({layer}, filter 3)", paired(partial(circuit, loaded, image, layer, 3), forward,
         args.repeat), "forward")
    for name in (deep, early, early_conv):
        line(f"cold gradient x activation at {name}", paired(
            partial(channel_attribution, loaded, image, name, 281), forward, args.repeat), "forward", "(target <= 3x)")
    for name in (deep, early):
        line(f"integrated gradients, 32 steps, at {name}", paired(
            partial(channel_attribution, loaded, image, name, 281, "ig"), forward, args.repeat), "forward",
            "(target <= 40x)")
    line(f"  gradient x activation at {early}, its baseline not yet kept", paired(
        partial(channel_attribution, loaded, image, early, 281), forward, args.repeat, new_process), "forward")
    line(f"  integrated gradients at {early}, its baseline not yet kept", paired(
        partial(channel_attribution, loaded, image, early, 281, "ig"), forward, args.repeat, new_process), "forward")


if __name__ == "__main__":
    main()
