"""Peak memory of a scan, measured in a fresh process: a collection is stored
here (image store and manifest in a folder), then ``python -m
devtools.scan_memory FOLDER COLLECTION`` scans it through the Scanner (the
same reading and decoding as a real scan) and prints its max RSS.

Used by ``benchmarks/scan.py`` (40-megapixel photos against small images)
and by the test that holds a scan of large images to its bound."""

from __future__ import annotations

import gc
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from .servers import REPO_ROOT

MAX_PIXELS = 40_000_000
LARGE = (7296, 5472)  # 39.9 megapixels, a full-frame camera's photo
SMALL = (320, 240)


def photo(seed: int, size: tuple[int, int], image_format: str = "JPEG") -> bytes:
    """Smooth noise at ``size``, encoded as a camera would (JPEG) or losslessly (PNG)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (max(1, size[1] // 64), max(1, size[0] // 64), 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize(size, Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    if image_format == "PNG":
        image.save(buffer, format="PNG", compress_level=1)
    else:
        image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def store_collection(folder: Path, images: list[bytes]) -> str:
    """Store ``images`` as one collection under ``folder``; its id."""
    from dashapp.collections import CollectionLimits, CollectionStore, FileBlobStore, build_collection, from_files
    from dashapp.intake import Limits
    from dashapp.store import FileImageStore

    store = FileImageStore(folder / "images", MAX_PIXELS, max_bytes=1 << 34)
    limits = CollectionLimits(max_file_bytes=64 << 20)
    files = [(f"c{i % 2}/{i}.img", data) for i, data in enumerate(images)]
    collection = build_collection("memory", from_files(files, limits), store,
                                  Limits(max_bytes=64 << 20, max_pixels=MAX_PIXELS))
    return CollectionStore(FileBlobStore(folder / "blobs")).put(collection).id


def scan_peak_mb(folder: Path, collection: str, batch: int = 32, timeout: float = 900) -> float:
    """Peak RSS (MB) of a fresh process while it scans the stored collection
    with ResNet18 (the peak counter is reset once the model is built, Linux)."""
    output = subprocess.run([sys.executable, "-m", "devtools.scan_memory", str(folder), collection, str(batch)],
                            check=True, capture_output=True, text=True, cwd=REPO_ROOT, timeout=timeout).stdout
    return float(json.loads(output.strip().splitlines()[-1])["max_rss_mb"])


def _child(folder: Path, collection: str, batch: int) -> None:
    from dashapp.analysis.models.registry import ModelRegistry
    from dashapp.collections import CollectionStore, FileBlobStore
    from dashapp.collections.scanning import Scanner
    from dashapp.store import FileImageStore

    registry = ModelRegistry(("resnet18",), policy="random", seed=0, device="cpu")
    blobs = FileBlobStore(folder / "blobs")
    scanner = Scanner(blobs, CollectionStore(blobs), FileImageStore(folder / "images", MAX_PIXELS, max_bytes=1 << 34),
                      registry, shard_size=1 << 20, batch_size=batch)
    plan = scanner.plan(collection, "resnet18")  # builds the model: its own peak is not the scan's
    gc.collect()
    before = _status_mb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from here
    assert scanner.run_shard(plan, 0)
    result = scanner.result(collection, "resnet18")
    print(json.dumps({"images": result.images if result else 0, "rss_before_mb": before,
                      "max_rss_mb": _status_mb("VmHWM")}))


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


if __name__ == "__main__":
    _child(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]))
