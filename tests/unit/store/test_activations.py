"""The activation store and the image store: durability, atomicity, bounds, degradation."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dashapp.analysis.capture import Capture, Prediction
from dashapp.intake import accept_bytes
from dashapp.service import Analyzer
from dashapp.state import ViewState
from dashapp.store import (
    ActivationStore,
    BoundedFileSystemCache,
    FileImageStore,
    decode_maps,
    encode_maps,
    is_sha256,
)


def test_blob_round_trip_is_float16_and_compact() -> None:
    rng = np.random.default_rng(0)
    maps = np.maximum(rng.normal(size=(64, 28, 28)), 0).astype(np.float32)
    blob = encode_maps(maps)
    back = decode_maps(blob)
    assert back.shape == maps.shape and back.dtype == np.float32
    np.testing.assert_allclose(back, maps.astype(np.float16).astype(np.float32))
    assert (back == 0).sum() == (maps == 0).sum()  # zeros stay zeros: sparsity survives
    assert len(blob) < maps.size * 2  # smaller than raw float16


@pytest.mark.parametrize("blob", [b"", b"ACT2", b"ACT1", b"junk" * 10, encode_maps(np.ones((2, 2, 2)))[:-3]])
def test_corrupt_blobs_are_rejected(blob: bytes) -> None:
    with pytest.raises(Exception) as info:
        decode_maps(blob)
    assert isinstance(info.value, (ValueError, Exception))


def test_file_image_store_round_trip_and_verification(tmp_path: Path, example_bytes: bytes) -> None:
    store = FileImageStore(tmp_path / "images", max_pixels=40_000_000)
    accepted = accept_bytes(example_bytes)
    assert store.put(accepted) == accepted.sha256 and store.has(accepted.sha256)
    image = FileImageStore(tmp_path / "images", max_pixels=40_000_000).get(accepted.sha256)  # fresh process view
    assert image is not None and image.size == (accepted.width, accepted.height)
    # No temporary files are left behind.
    assert not [p for p in (tmp_path / "images").rglob("*") if p.name.startswith(".incoming-")]
    # A tampered file is never served.
    path = next((tmp_path / "images").rglob(f"{accepted.sha256}.png"))
    path.write_bytes(path.read_bytes()[:-100])
    assert FileImageStore(tmp_path / "images", max_pixels=40_000_000).get(accepted.sha256) is None
    assert store.get("not-a-sha") is None and store.get("0" * 64) is None
    assert not is_sha256("../../etc/passwd")


def test_a_write_that_dies_midway_leaves_nothing_visible(tmp_path: Path, example_bytes: bytes,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileImageStore(tmp_path / "images", max_pixels=40_000_000)
    accepted = accept_bytes(example_bytes)

    def dying_replace(*_args: Any) -> None:
        raise KeyboardInterrupt("worker killed")

    monkeypatch.setattr("dashapp.store.images.os.replace", dying_replace)
    with pytest.raises(KeyboardInterrupt):
        store.put(accepted)
    monkeypatch.undo()
    assert not store.has(accepted.sha256) and store.get(accepted.sha256) is None
    assert not list((tmp_path / "images").rglob("*.tmp"))


@dataclass(frozen=True)
class FakeWeights:
    tag: str


@dataclass(frozen=True)
class FakeModel:
    name: str
    weights: FakeWeights


@dataclass(frozen=True)
class FakeSubject:
    """What the store needs on a miss: an image id, a model and the image."""

    sha: str
    model: FakeModel
    image: object = None


def subject(sha: str, tag: str = "random0") -> FakeSubject:
    return FakeSubject(sha, FakeModel("m", FakeWeights(tag)))


class CountingCompute:
    """Stands in for ``analysis.capture``: three layers whose value is their number."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, _model: object, _image: object) -> Capture:
        with self.lock:
            self.calls += 1
        maps = {f"l{i}": np.full((2, 3, 3), float(i), dtype=np.float32) for i in range(3)}
        return Capture(responses=maps, top=[Prediction(1, "x", 0.5)], weights=None)  # type: ignore[arg-type]


def test_one_forward_pass_fills_every_layer(tmp_path: Path) -> None:
    backend = BoundedFileSystemCache(str(tmp_path / "c"), threshold=100, default_timeout=60)
    compute = CountingCompute()
    store = ActivationStore(backend, compute=compute)
    sha = "a" * 64
    assert store.layer(subject(sha), "l2")[0, 0, 0] == 2.0
    other = ActivationStore(backend, compute=compute)  # another worker
    assert other.layer(subject(sha), "l0")[0, 0, 0] == 0.0 and other.layer(subject(sha), "l1")[0, 0, 0] == 1.0
    assert other.meta(subject(sha))["top"][0]["label"] == "x"
    assert compute.calls == 1
    # Weights are part of the key: other weights never see these numbers.
    store.layer(subject(sha, tag="pretrained"), "l0")
    assert compute.calls == 2


def test_concurrent_misses_compute_once_and_locks_do_not_pile_up(tmp_path: Path) -> None:
    backend = BoundedFileSystemCache(str(tmp_path / "c"), threshold=100, default_timeout=60)
    compute = CountingCompute()
    store = ActivationStore(backend, compute=compute)
    barrier = threading.Barrier(8)
    results: list[float] = []

    def worker() -> None:
        barrier.wait()
        results.append(float(store.layer(subject("b" * 64), "l1")[0, 0, 0]))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results == [1.0] * 8 and compute.calls == 1
    for i in range(50):  # many images later, no lock is left behind
        store.layer(subject(f"{i:064x}"), "l0")
    assert len(store._locks) == 0


class BrokenBackend:
    def __getattr__(self, name: str) -> Any:
        def fail(*_args: Any, **_kwargs: Any) -> Any:
            raise ConnectionError("backend down")

        return fail


def test_failing_backend_degrades_to_recomputing() -> None:
    compute = CountingCompute()
    store = ActivationStore(BrokenBackend(), compute=compute)
    assert store.layer(subject("c" * 64), "l1")[0, 0, 0] == 1.0
    assert store.stats["backend_errors"] >= 1


def test_unwritable_cache_directory_still_answers(tmp_path: Path) -> None:
    cache_dir = tmp_path / "c"
    backend = BoundedFileSystemCache(str(cache_dir), threshold=100, default_timeout=60)
    cache_dir.chmod(0o500)
    try:
        compute = CountingCompute()
        store = ActivationStore(backend, compute=compute)
        assert store.layer(subject("d" * 64), "l2")[0, 0, 0] == 2.0
    finally:
        cache_dir.chmod(0o700)


def test_cache_entry_bound_holds(tmp_path: Path) -> None:
    backend = BoundedFileSystemCache(str(tmp_path / "c"), threshold=10, default_timeout=60)
    for i in range(40):
        backend.set(f"k{i}", b"x" * 10)
    entries = [p for p in (tmp_path / "c").iterdir() if not p.name.endswith(".__wz_cache")]
    assert len(entries) <= 11


def test_analyzer_cache_bytes_for_resnet18(analyzer: Analyzer, example_bytes: bytes) -> None:
    sha = analyzer.library.ingest_bytes(example_bytes).sha256
    view = analyzer.open(ViewState(image=sha, model="resnet18", layer="conv1"))
    layers = list(view.loaded.layers)
    assert view.maps.shape[0] == 64
    size = analyzer.activations.cached_bytes(view.subject, layers)
    assert 0 < size <= 6 * 1024 * 1024


def test_cache_bound_holds_for_batches(tmp_path: Path) -> None:
    backend = BoundedFileSystemCache(str(tmp_path / "c"), threshold=30, default_timeout=60)
    for batch in range(6):
        backend.set_many({f"b{batch}-{i}": b"x" for i in range(21)})
        entries = [p for p in (tmp_path / "c").iterdir() if not p.name.endswith(".__wz_cache")]
        assert len(entries) <= 30
    assert backend.get("b5-20") == b"x"  # the newest batch is whole
