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
  gradients at 32 steps (target <= 40x) at the first two.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from functools import partial
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.engine import EXAMPLE, median_time  # one timing rule for the benchmarks
from dashapp import create_app
from dashapp.analysis.attribution.channels import channel_attribution
from dashapp.analysis.circuits.circuit import circuit
from dashapp.analysis.models.capture import forward_only
from dashapp.config.settings import Settings
from dashapp.service import Analyzer, circuits
from dashapp.service.memo import Memo


def line(name: str, seconds: float, base: float, base_name: str, target: str = "") -> None:
    print(f"{name:<58} {seconds * 1000:9.1f} ms  {seconds / base:6.2f}x {base_name}  {target}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--model", default="resnet18")
    args = parser.parse_args()
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="bench-circuits-")), weights="random", device="cpu")
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

    floor = median_time(lambda: forward_only(loaded, image), args.repeat)
    warm_analysis = median_time(lambda: get(analysis_url), args.repeat)
    warm_circuit = median_time(lambda: get(circuit_url), args.repeat)
    warm_attribution = median_time(lambda: get(attribution_url), args.repeat)
    cold_circuit = median_time(lambda: circuit(loaded, image, layer, 3), args.repeat)
    other = Analyzer(settings, registry=analyzer.registry, backend=analyzer.activations.backend)

    def store_circuit_answer() -> None:
        other.memo = Memo(max_bytes=32 * 1024 * 1024)  # another worker: nothing in its memo
        circuits.circuit_answer(circuits.filter_circuit(other, sha, args.model, layer, 3), k=10)

    def store_attribution_answer() -> None:
        other.memo = Memo(max_bytes=32 * 1024 * 1024)
        circuits.attribution_answer(circuits.attribution(other, sha, args.model, deep, 281, "gradxact"), k=10)

    store_circuit = median_time(store_circuit_answer, args.repeat)
    store_attribution = median_time(store_attribution_answer, args.repeat)
    gradxact = {name: median_time(partial(channel_attribution, loaded, image, name, 281), args.repeat)
                for name in (deep, early, early_conv)}
    ig = {name: median_time(partial(channel_attribution, loaded, image, name, 281, "ig"), args.repeat)
          for name in (deep, early)}

    print(f"model {args.model}, device {loaded.device}, median of {args.repeat} runs, one process")
    line("floor: bare forward pass", floor, floor, "forward")
    line("warm /api/analysis", warm_analysis, floor, "forward")
    line(f"warm /api/circuit ({layer})", warm_circuit, warm_analysis, "warm analysis", "(target <= 2x)")
    line(f"warm /api/attribution ({deep}, gradxact)", warm_attribution, warm_analysis, "warm analysis",
         "(target <= 2x)")
    line(f"another worker's /api/circuit from the store ({layer})", store_circuit, warm_analysis,
         "warm analysis")
    line(f"another worker's /api/attribution from the store ({deep})", store_attribution, warm_analysis,
         "warm analysis")
    line(f"cold circuit ({layer}, filter 3)", cold_circuit, floor, "forward")
    for name in (deep, early, early_conv):
        line(f"cold gradient x activation at {name}", gradxact[name], floor, "forward", "(target <= 3x)")
    for name in (deep, early):
        line(f"integrated gradients, 32 steps, at {name}", ig[name], floor, "forward", "(target <= 40x)")


if __name__ == "__main__":
    main()
