"""Scan jobs run in-process: shards, progress, the final merge, cancel and resume."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dashapp.analysis.scan.result import results_equal
from dashapp.analysis.scan.scanner import ScanItem, scan
from dashapp.collections import CollectionLimits, CollectionStore, FileBlobStore, build_collection, from_files
from dashapp.collections.scanning import ScanError, Scanner, in_process
from dashapp.store import FileImageStore
from devtools.servers import wait_for
from tests.support.planted import planted_model


class OneModel:
    """The registry interface the scanner needs, serving the planted model."""

    def __init__(self) -> None:
        self.loaded = planted_model()

    def get(self, name: str):
        if name != self.loaded.name:
            raise KeyError(f"Unknown model {name!r}")
        return self.loaded


def png(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (18, 22, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def setup(tmp_path: Path):
    images = FileImageStore(tmp_path / "images", max_pixels=40_000_000)
    blobs = FileBlobStore(tmp_path / "blobs")
    collections = CollectionStore(blobs)
    files = [(f"{'ab'[i % 2]}/{i}.png", png(i)) for i in range(23)]
    collection = collections.put(build_collection("c", from_files(files, CollectionLimits()), images))
    return images, blobs, collections, collection


def scanner_of(setup, dispatch=in_process, shard: int = 8, batch: int = 4) -> Scanner:
    images, blobs, collections, _ = setup
    return Scanner(blobs, collections, images, OneModel(), shard_size=shard, batch_size=batch, dispatch=dispatch)


def single_pass(setup):
    images, _, _, collection = setup
    items = [ScanItem(m.image, images.get(m.image), m.label) for m in collection.images]
    return scan(planted_model(), items, batch_size=4)


def test_in_process_scan_runs_in_the_background_and_equals_one_pass(setup) -> None:
    scanner = scanner_of(setup)
    collection = setup[3]
    status = scanner.start(collection.id, "planted")
    assert status["total"] == 23 and status["state"] in ("queued", "running", "done")
    wait_for(lambda: scanner.status(collection.id, "planted")["state"] == "done", 60, "the scan to finish")
    result = scanner.result(collection.id, "planted")
    assert result is not None and result.images == 23
    assert results_equal(result, single_pass(setup))
    assert result.labels == ["a", "b"]
    # Shard results and progress are folded into the result and removed.
    assert setup[1].keys("shard:") == [] and setup[1].keys("progress:") == []
    assert len(setup[1].keys("scan:")) == 1
    # A second start is answered from the stored result, also by a fresh scanner (a restart).
    assert scanner_of(setup).start(collection.id, "planted")["state"] == "done"


def test_cancel_stops_between_batches_and_start_resumes_from_stored_shards(setup) -> None:
    gate = threading.Event()
    release = threading.Event()
    collection = setup[3]

    def gated(scanner: Scanner, plan) -> None:
        original = scanner.images.get

        def slow_get(sha: str):
            gate.set()
            release.wait(30)
            return original(sha)

        scanner.images.get = slow_get  # type: ignore[method-assign]
        in_process(scanner, plan)

    scanner = scanner_of(setup, dispatch=gated)
    scanner.start(collection.id, "planted")
    assert gate.wait(30)
    assert scanner.cancel(collection.id, "planted")["state"] == "cancelled"
    release.set()
    for thread in scanner.threads.values():
        thread.join(30)
    assert scanner.status(collection.id, "planted")["state"] == "cancelled"
    assert scanner.result(collection.id, "planted") is None
    resumed = scanner_of(setup)
    resumed.start(collection.id, "planted")
    wait_for(lambda: resumed.status(collection.id, "planted")["state"] == "done", 60, "the resumed scan")
    assert results_equal(resumed.result(collection.id, "planted"), single_pass(setup))


def test_unknown_collection_or_model_is_a_clear_error(setup) -> None:
    scanner = scanner_of(setup)
    with pytest.raises(ScanError, match="no collection"):
        scanner.start("0" * 64, "planted")
    with pytest.raises(ScanError, match="Unknown model"):
        scanner.start(setup[3].id, "vgg99")
