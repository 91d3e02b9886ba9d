"""Where a new image's analysis spends its time: CPU seconds per stage.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/cold_stages.py [--images 15]

Runs the cold analysis of ``benchmarks/engine.py`` (a new image posted, then
its analysis asked for) on --images new images and prints, per image, the
CPU time of the request's thread (``time.thread_time``: what a loaded
machine's other processes do not change much) for the whole request and for
each stage, beside the median CPU time of a bare forward pass. Stages run on
another thread (the cache writes in the background) are printed apart. Stages
nest: the forward pass is part of the fill.
"""

from __future__ import annotations

import argparse
import collections
import functools
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import EXAMPLE, new_image_bytes

import dashapp.analysis.models.capture as capture_module
import dashapp.service.memo as memo_module
import dashapp.service.view as view_module
import dashapp.store.activations as activations_module
from dashapp import create_app
from dashapp.config.settings import Settings
from dashapp.service import Analyzer
from devtools.processes import scratch_dir

MAIN = threading.main_thread()
spent: dict[tuple[str, bool], float] = collections.defaultdict(float)  # (stage, on the request's thread) -> s


def timed(owner: Any, name: str, label: str) -> None:
    """Replace ``owner.name`` by a wrapper that adds its thread's CPU time to ``label``."""
    original: Callable[..., Any] = getattr(owner, name)

    depth = threading.local()  # a recursive stage (the memo's sizing) counts once, at its outermost call

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        depth.n = getattr(depth, "n", 0) + 1
        started = time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            depth.n -= 1
            if depth.n == 0:
                spent[(label, threading.current_thread() is MAIN)] += time.thread_time() - started

    setattr(owner, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=15)
    args = parser.parse_args()
    settings = Settings(data_dir=scratch_dir("bench-"), weights="random", device="cpu")
    analyzer = Analyzer(settings)
    client = create_app(settings, analyzer).server.test_client()
    store = analyzer.activations
    for owner, name, label in [
        (capture_module, "_run_hooked", "forward pass with the capture hooks"),
        (type(store), "_compute_and_store", "fill (forward pass, rounding, encoding, writing)"),
        (activations_module, "encode_maps", "float16 blob encoding"),
        (activations_module, "to_half", "float32 -> float16"),
        (activations_module, "to_single", "float16 -> float32"),
        (type(store.backend), "set_many", "cache write, layers"),
        (type(analyzer.library), "ingest_bytes", "POST /api/images: intake and image store"),
        (view_module, "filter_stats", "filter statistics"),
        (view_module, "layer_stats", "layer statistics"),
        (view_module, "find_regions", "regions of the ranked filters"),
        (view_module, "word_reading", "readings of the ranked filters"),
        (memo_module, "size_of", "memo: sizing what it keeps"),
    ]:
        timed(owner, name, label)
    loaded = analyzer.models.model("resnet18")
    layer = list(loaded.layers)[5]
    image = Image.open(EXAMPLE).convert("RGB")
    capture_module.forward_only(loaded, image)
    images = [new_image_bytes(1000 + i) for i in range(args.images)]
    floors, requests = [], []
    for data in images:
        started = time.thread_time()
        capture_module.forward_only(loaded, image)
        floors.append(time.thread_time() - started)
        started = time.thread_time()
        sha = client.post("/api/images", data=data, content_type="image/png").get_json()["sha256"]
        assert client.get(f"/api/analysis?image={sha}&model=resnet18&layer={layer}&n=6").status_code == 200
        requests.append(time.thread_time() - started)
    floor, request = statistics.median(floors), statistics.median(requests)
    print(f"resnet18, {args.images} new images, CPU ms per image (request's thread)")
    print(f"  bare forward pass (median)                         {floor * 1000:7.1f}")
    print(f"  cold analysis, POST + GET (median)                 {request * 1000:7.1f}   {request / floor:.2f}x")
    for on_main in (True, False):
        print("  stages on the request's thread:" if on_main else "  stages on other threads (background):")
        for (label, main_thread), seconds in sorted(spent.items(), key=lambda item: -item[1]):
            if main_thread == on_main:
                print(f"    {label:48s} {seconds / args.images * 1000:7.2f}")


if __name__ == "__main__":
    main()
