"""Engine benchmark: figures as ratios to a bare forward pass measured in the same run.

    .venv/bin/python benchmarks/engine.py [--repeat 7]

Prints the floor (a bare torchvision forward pass), a cold analysis (a new
image through intake, the store and the API's analysis answer; each one
timed right after a floor pass, so a machine whose load changes during the
run slows both alike, and the median of those pairs' ratios beside), warm
analyses (another layer: from this worker's memory, and from the shared
cache as another worker would see it), the bytes one image occupies in the
cache, and the Grad-CAM time (not with --quick). Medians over --repeat runs.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashapp import create_app
from dashapp.analysis.attribution.gradcam import class_evidence
from dashapp.analysis.attribution.sanity import evidence_sanity
from dashapp.analysis.models.capture import forward_only
from dashapp.analysis.models.registry import LoadedModel
from dashapp.config.settings import Settings
from dashapp.service import Analyzer, Subject
from devtools.processes import scratch_dir

EXAMPLE = Path(__file__).resolve().parent.parent / "assets" / "examples" / "chelsea.png"


def median_time(func: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def new_image_bytes(seed: int) -> bytes:
    """A photo with a few pixels changed: a new SHA-256, the same content cost."""
    array = np.asarray(Image.open(EXAMPLE).convert("RGB")).copy()
    array[seed % array.shape[0], : 8] = (seed * 37) % 256
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--quick", action="store_true", help="stop after the cache figures (no Grad-CAM, no sanity)")
    args = parser.parse_args()
    data_dir = scratch_dir("bench-")
    settings = Settings(data_dir=data_dir, weights="random", device="cpu")
    analyzer = Analyzer(settings)
    client = create_app(settings, analyzer).server.test_client()
    loaded = analyzer.models.model(args.model)
    layers = list(loaded.layers)
    image = Image.open(EXAMPLE).convert("RGB")
    forward_only(loaded, image)  # warm up threads and allocator

    fresh = iter([new_image_bytes(i + 1) for i in range(args.repeat)])  # encoded before timing
    answers: list[str] = []

    def cold() -> None:
        data = next(fresh)
        sha = client.post("/api/images", data=data, content_type="image/png").get_json()["sha256"]
        answer = client.get(f"/api/analysis?image={sha}&model={args.model}&layer={layers[5]}&n=6")
        assert answer.status_code == 200
        answers.append(sha)

    floors, colds = [], []
    for _ in range(args.repeat):  # floor and cold in turns: both see the same load
        floors.append(median_time(lambda: forward_only(loaded, image), 1))
        colds.append(median_time(cold, 1))
    floor, cold_time = statistics.median(floors), statistics.median(colds)
    paired = statistics.median(c / f for c, f in zip(colds, floors, strict=True))
    sha = answers[-1]
    layer_cycle = iter(layers * 10)

    def warm() -> None:
        answer = client.get(f"/api/analysis?image={sha}&model={args.model}&layer={next(layer_cycle)}&n=6")
        assert answer.status_code == 200

    warm_time = median_time(warm, args.repeat)

    # Another worker: same shared cache, empty process memory.
    other = Analyzer(settings, registry=analyzer.registry)
    other_client = create_app(settings, other).server.test_client()
    shared_cycle = iter(layers * 10)

    def warm_shared() -> None:
        answer = other_client.get(f"/api/analysis?image={sha}&model={args.model}&layer={next(shared_cycle)}&n=6")
        assert answer.status_code == 200

    warm_shared_time = median_time(warm_shared, args.repeat)
    assert other.activations.stats["computes"] == 0, "the second worker recomputed instead of reading the cache"

    cache_bytes = analyzer.activations.cached_bytes(Subject(sha, loaded, image), layers)
    raw_bytes = sum(int(np.prod((info.out_channels, *info.map_size))) * 4 for info in loaded.layers.values())

    print(f"model {args.model}, {len(layers)} conv layers, device {loaded.device}, median of {args.repeat} runs")
    print(f"floor: bare forward pass           {floor * 1000:8.1f} ms   1.00x")
    print(f"cold analysis (new image via API)  {cold_time * 1000:8.1f} ms   {cold_time / floor:5.2f}x  (target <= 3x; "
          f"paired {paired:.2f}x)")
    print(f"warm analysis, this worker         {warm_time * 1000:8.1f} ms   {warm_time / floor:5.2f}x  "
          "(target <= 0.5x)")
    print(f"warm analysis, another worker      {warm_shared_time * 1000:8.1f} ms   "
          f"{warm_shared_time / floor:5.2f}x  (shared cache, no recompute)")
    print(f"cache bytes per image, all layers  {cache_bytes / 1e6:8.2f} MB   "
          f"({raw_bytes / 1e6:.1f} MB as float32; target <= 6 MB)")
    if not args.quick:
        evidence(analyzer, loaded, image, floor, args.repeat, args.model)


def evidence(analyzer: Analyzer, loaded: LoadedModel, image: Image.Image, floor: float, repeat: int,
             model_name: str) -> None:
    """Grad-CAM, Grad-CAM++ and the sanity check, against the floor."""
    deep = list(loaded.layers)[-1]
    gradcam = median_time(lambda: class_evidence(loaded, image, deep, 281), repeat)
    gradcam_pp = median_time(lambda: class_evidence(loaded, image, deep, 281, "gradcam++"), repeat)
    print(f"Grad-CAM at {deep:<20}  {gradcam * 1000:8.1f} ms   {gradcam / floor:5.2f}x")
    print(f"Grad-CAM++ at {deep:<18}  {gradcam_pp * 1000:8.1f} ms   {gradcam_pp / floor:5.2f}x")
    # Adebayo et al.'s cascading model-randomization check, timed against a bare forward pass.
    for name, layer in ((model_name, loaded.default_evidence_layer), ("alexnet", "features.10")):
        model = analyzer.models.model(name)
        started = time.perf_counter()
        result = evidence_sanity(model, image, layer, 281)
        took = time.perf_counter() - started
        last = result.steps[-1].spearman if result.steps else None
        print(f"sanity check, {name} {layer}: {len(result.steps)} steps, {took * 1000:.0f} ms "
              f"({took / floor:.1f}x), last |Spearman| {last if last is None else f'{last:.3f}'}, {result.verdict}")


if __name__ == "__main__":
    main()
