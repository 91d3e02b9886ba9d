"""Collection scan benchmark: prints figures from one run, never asserts.

    .venv/bin/python benchmarks/scan.py [--images 256] [--memory 1000,4000] [--celery-images 128] [--large 10]

1. Bare batched forward throughput (preprocessing + forward, no hooks): the floor.
2. Scan throughput (hooks, per-filter reductions, top-k merges) as a ratio of
   it, both measured batch by batch in alternation.
3. Peak memory (max RSS of a fresh process) scanning 1 000 and 4 000
   synthetic images: the growth is what the scan keeps per image (it should
   keep nothing: the result is layers x filters x k).
4. Speed-up of 2 Celery workers over 1 on one collection (a private
   redis-server and real ``celery -A dashapp.worker worker`` processes).
5. Peak memory of a scan (through the Scanner, from the image store) of
   ``--large`` 40-megapixel photos against as many small images (target:
   <= 1.2 x), in a fresh process each (``devtools/scan_memory.py``).

Seeded random ResNet18 weights on the CPU (ImageNet weights are not needed
for speed); ``OMP_NUM_THREADS`` as set by the caller.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashapp.analysis.models.capture import preprocess_batch  # noqa: E402
from dashapp.analysis.models.registry import ModelRegistry, describe  # noqa: E402
from dashapp.analysis.scan.result import empty_result, merge  # noqa: E402
from dashapp.analysis.scan.scanner import DEFAULT_K, ScanItem, batches, scan, scan_batch  # noqa: E402
from devtools.celery_workers import start_workers, worker_env  # noqa: E402
from devtools.scan_memory import LARGE, SMALL, photo, scan_peak_mb, store_collection  # noqa: E402
from devtools.servers import start_redis, wait_for  # noqa: E402


def synthetic(count: int, seed: int = 0, size: tuple[int, int] = (320, 240)) -> Iterator[ScanItem]:
    """Lazily made images (never all in memory): smooth noise plus a few shapes."""
    for i in range(count):
        rng = np.random.default_rng(seed + i)
        small = rng.integers(0, 256, (size[1] // 16, size[0] // 16, 3), dtype=np.uint8)
        image = Image.fromarray(small).resize(size, Image.Resampling.BILINEAR)
        yield ScanItem(f"{seed + i:064x}", image, f"class{i % 5}")


def model(input_size: int = 224) -> object:
    loaded = ModelRegistry(("resnet18",), policy="random", seed=0, device="cpu").get("resnet18")
    if input_size == loaded.input_size:
        return loaded
    return describe(loaded.name, loaded.module, loaded.categories, loaded.weights, loaded.device, input_size)


def rates(loaded, count: int, batch: int) -> tuple[float, float]:
    """(floor, scan) images/s. Interleaved batch by batch, in alternating
    order, so that the load of a shared machine weighs on both alike: the
    floor is preprocessing + forward without hooks; the scan is what
    ``scan`` does per batch (hooks, reductions, merge into the result)."""
    result = empty_result(loaded.name, loaded.weights.tag, DEFAULT_K,
                          {name: info.out_channels for name, info in loaded.layers.items()})
    floor_s = scan_s = 0.0
    for n, items in enumerate(batches(synthetic(count), batch)):
        for step in ((0, 1) if n % 2 == 0 else (1, 0)):
            start = time.perf_counter()
            if step == 0:
                with torch.inference_mode():
                    loaded.module(preprocess_batch(loaded, [item.image for item in items]))
                floor_s += time.perf_counter() - start
            else:
                result = merge(result, scan_batch(loaded, items))
                scan_s += time.perf_counter() - start
    return count / floor_s, count / scan_s


def memory_child(count: int, batch: int, input_size: int) -> None:
    loaded = model(input_size)
    result = scan(loaded, synthetic(count, seed=10_000), batch_size=batch)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"images": result.images, "max_rss_mb": peak_kb / 1024}))


def memory_of(count: int, batch: int, input_size: int) -> float:
    output = subprocess.run([sys.executable, __file__, "--memory-child", str(count), "--batch", str(batch),
                             "--memory-input", str(input_size)], check=True, capture_output=True, text=True,
                            cwd=ROOT).stdout
    return float(json.loads(output.strip().splitlines()[-1])["max_rss_mb"])


# ---------------------------------------------------------------- Celery


def _png(seed: int, size: tuple[int, int] = (32, 32)) -> bytes:
    buffer = io.BytesIO()
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _scan_until_done(scanner, collection_id: str) -> float:
    start = time.perf_counter()
    scanner.start(collection_id, "resnet18")
    wait_for(lambda: scanner.status(collection_id, "resnet18")["state"] == "done", 3600, "the scan", interval=0.1)
    return time.perf_counter() - start


def celery_time(workers: int, count: int, shard: int, batch: int, directory: Path) -> float:
    """Seconds from start to merged result for ``count`` images on ``workers``
    real Celery workers (a private redis-server), models warmed first."""
    from dashapp.collections import CollectionLimits, build_collection, from_files
    from dashapp.collections.runtime import scanner_for
    from dashapp.config.settings import Settings

    redis = start_redis(directory / "redis")
    started = []
    try:
        env = worker_env(redis.url, directory / "data", {
            "DASHAPP_SCAN_SHARD": str(shard), "DASHAPP_SCAN_BATCH": str(batch),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")})
        started = start_workers(workers, env, directory / "workers")
        settings = Settings(data_dir=directory / "data", redis_url=redis.url, weights="random", device="cpu",
                            models=("resnet18",), scan_shard=shard, scan_batch=batch)
        scanner = scanner_for(settings)
        # Warm-up, not timed: one-image shards, so every worker builds its
        # model and runs a first batch.
        warm = scanner_for(settings.with_overrides(scan_shard=1, scan_batch=1))
        small = warm.collections.put(build_collection(
            "warm", from_files([(f"w{i}.png", _png(i)) for i in range(4 * workers)], CollectionLimits()),
            warm.images))
        _scan_until_done(warm, small.id)
        files = []
        for item in synthetic(count, seed=50_000):
            buffer = io.BytesIO()
            item.image.save(buffer, format="PNG")
            files.append((f"{item.image_id[-6:]}.png", buffer.getvalue()))
        collection = scanner.collections.put(build_collection("bench", from_files(files, CollectionLimits()),
                                                              scanner.images))
        return _scan_until_done(scanner, collection.id)
    finally:
        for worker in started:
            worker.stop()
        redis.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=256, help="images for the throughput figures")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--memory", default="1000,4000", help="image counts for the memory runs ('' to skip)")
    parser.add_argument("--celery-images", type=int, default=128, help="0 to skip the Celery speed-up")
    parser.add_argument("--shard", type=int, default=16, help="shard size of the Celery runs")
    parser.add_argument("--celery-rounds", type=int, default=2, help="alternating 1- and 2-worker runs")
    parser.add_argument("--memory-input", type=int, default=64,
                        help="model input size of the memory runs (what is kept per filter does not depend on it; "
                             "a smaller input makes 5 000 images affordable on a CPU)")
    parser.add_argument("--memory-child", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--large", type=int, default=10, help="40 MP photos for the large-image memory run (0 skips)")
    parser.add_argument("--large-format", default="JPEG", choices=("JPEG", "PNG"))
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.batch, args.memory_input)
        return
    if args.images:
        throughput(args)
    memory(args)
    if args.large:
        large_images(args)
    if args.celery_images and shutil.which("redis-server"):
        celery(args)


def celery(args: argparse.Namespace) -> None:
    """1 worker, then 2, ``--celery-rounds`` times in alternation: on a shared
    machine the load drifts, and alternating spreads the drift over both."""
    times: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="scan-bench-") as tmp:
        for round_ in range(args.celery_rounds):
            for workers in (1, 2) if round_ % 2 == 0 else (2, 1):
                directory = Path(tmp) / f"r{round_}w{workers}"
                times[workers].append(celery_time(workers, args.celery_images, args.shard, args.batch, directory))
    one, two = sum(times[1]) / len(times[1]), sum(times[2]) / len(times[2])
    listed = ", ".join(f"{a:.1f}/{b:.1f}" for a, b in zip(times[1], times[2], strict=True))
    print(f"Celery, {args.celery_images} images in shards of {args.shard}: 1 worker {one:.1f} s, 2 workers "
          f"{two:.1f} s (mean of {args.celery_rounds}; per round 1/2: {listed}), speed-up {one / two:.2f} x "
          f"(machine: {os.cpu_count()} cores, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})")


def throughput(args: argparse.Namespace) -> None:
    loaded = model()
    print(f"torch threads: {torch.get_num_threads()}, batch {args.batch}, {args.images} images of 320x240")
    rates(loaded, args.batch, args.batch)  # warm-up: allocator, kernels
    floor, rate = rates(loaded, args.images, args.batch)
    print(f"bare batched forward (the floor): {floor:.1f} images/s")
    print(f"scan: {rate:.1f} images/s = {rate / floor:.2f} x the floor (target >= 0.7)")


def memory(args: argparse.Namespace) -> None:
    counts = [int(c) for c in args.memory.split(",") if c.strip()]
    if not counts:
        return
    peaks = {count: memory_of(count, args.batch, args.memory_input) for count in counts}
    for count, peak in peaks.items():
        print(f"peak memory scanning {count} images: {peak:.0f} MB (max RSS of a fresh process, "
              f"ResNet18 at {args.memory_input} px input)")
    if len(counts) >= 2:
        print(f"growth from {counts[0]} to {counts[-1]} images: {peaks[counts[-1]] - peaks[counts[0]]:+.1f} MB"
              " (target <= 50 MB)")


def large_images(args: argparse.Namespace) -> None:
    """A scan of 40 MP photos holds them reduced: its peak against small images'."""
    with tempfile.TemporaryDirectory(prefix="scan-large-") as tmp:
        peaks = {}
        for name, size in (("small", SMALL), ("large", LARGE)):
            folder = Path(tmp) / name
            collection = store_collection(folder, [photo(i, size, args.large_format) for i in range(args.large)])
            peaks[name] = scan_peak_mb(folder, collection, args.batch)
    print(f"peak memory scanning {args.large} images of {SMALL[0]}x{SMALL[1]}: {peaks['small']:.0f} MB; of "
          f"{LARGE[0]}x{LARGE[1]} ({args.large_format}): {peaks['large']:.0f} MB = "
          f"{peaks['large'] / peaks['small']:.2f} x (target <= 1.2; RSS once the model is built)")


if __name__ == "__main__":
    main()
