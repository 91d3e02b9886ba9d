"""Concept test (TCAV) benchmark: prints figures from one run, never asserts.

    .venv/bin/python benchmarks/tcav.py [--images 50] [--runs 10] [--model resnet18] [--device cpu]

1. The floor: forward + backward throughput (images/s) of the class logit's
   gradient at the layers, every image once (``class_gradients``).
2. The test's throughput: a whole concept test (``service.concepts.work.compute``,
   the job's own path: maps of the concept and random images, gradients of the
   class images, R runs of concept and null CAVs at every layer, the t-tests)
   for ``--images`` concept + random + class images at the model's default four
   layers, counted as images per second over the whole test, and its ratio to
   the floor (target >= 0.5: maps and gradients are computed once per image and
   layer, not once per run). The split between passes and CAV fitting is shown.

Seeded random weights (ImageNet weights are not needed for speed); synthetic
images (stripes, noise); ``OMP_NUM_THREADS`` as set by the caller.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashapp.analysis.models.registry import ModelRegistry  # noqa: E402
from dashapp.analysis.tcav import experiment  # noqa: E402
from dashapp.analysis.tcav.activations import class_gradients  # noqa: E402
from dashapp.service.concepts import work  # noqa: E402
from dashapp.service.concepts.request import ConceptRequest, default_layers  # noqa: E402
from tests.support.concept_api import files  # noqa: E402

CLASS_INDEX = 340


class Stores:
    """In-memory collections and image store (the job reads both through get)."""

    def __init__(self) -> None:
        self.collections: dict[str, Any] = {}
        self.images: dict[str, Image.Image] = {}

    def add(self, name: str, kind: str, count: int, offset: int) -> str:
        members = []
        for file_name, data in files(kind, count, offset):
            key = f"{name}-{file_name}"
            self.images[key] = Image.open(io.BytesIO(data)).convert("RGB")
            members.append(SimpleNamespace(image=key))
        self.collections[name] = SimpleNamespace(id=name, name=name, images=members)
        return name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=50, help="concept, random and class images, each")
    parser.add_argument("--runs", type=int, default=experiment.DEFAULT_RUNS)
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    loaded = ModelRegistry((args.model,), policy="random", seed=0, device=args.device).get(args.model)
    registry = SimpleNamespace(get=lambda _name: loaded)
    layers = default_layers(loaded.evidence_layers())
    stores = Stores()
    concept = stores.add("concept", "striped", args.images, 0)
    random = stores.add("random", "noise", args.images, 10_000)
    images = stores.add("class", "noise", args.images, 20_000)
    print(f"{args.model} on {loaded.device}, layers {', '.join(layers)}; {args.images} concept + {args.images} "
          f"random + {args.images} class images, R = {args.runs}")

    everything = list(stores.images.values())
    class_gradients(loaded, everything[:4], layers, CLASS_INDEX)  # warm-up
    started = time.perf_counter()
    class_gradients(loaded, everything, layers, CLASS_INDEX)
    floor = len(everything) / (time.perf_counter() - started)
    print(f"1. forward + backward (the floor): {floor:.1f} images/s over {len(everything)} images")

    request = ConceptRequest(args.model, loaded.weights.tag, (concept,), random, CLASS_INDEX, images, tuple(layers),
                             args.runs, 0)
    used = work.plan(request, stores.collections)
    passes = sum(len(ids) for ids in used["concepts"].values()) + len(used["random"]) + len(used["images"])
    marks: dict[str, float] = {}
    count = 0

    def tick(units: int) -> None:
        nonlocal count
        count += units
        if count >= passes and "passes" not in marks:
            marks["passes"] = time.perf_counter()

    started = time.perf_counter()
    result = work.compute(request, used, registry, stores.collections, stores.images, tick)
    elapsed = time.perf_counter() - started
    rate = passes / elapsed
    fitting = started + elapsed - marks["passes"]
    print(f"2. the concept test: {rate:.1f} images/s ({elapsed:.1f} s: {marks['passes'] - started:.1f} s of passes, "
          f"{fitting:.1f} s for {experiment.steps(1, len(layers), args.runs)} CAVs and the tests)")
    print(f"   ratio to the floor: {rate / floor:.2f} (target >= 0.5)")
    for row in result["results"]:
        print(f"   {row['layer']}: score {row['score_mean']:.2f} ± {row['score_std']:.2f}, p {row['p_value']:.3g}, "
              f"CAV accuracy {row['cav_accuracy']:.2f}")


if __name__ == "__main__":
    main()
