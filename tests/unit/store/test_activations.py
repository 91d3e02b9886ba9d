"""The activation store: one forward pass per (image, model), shared, degrading to recompute."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dashapp.analysis.models.capture import Capture, Prediction
from dashapp.service import Analyzer
from dashapp.state.schema import ViewState
from dashapp.store import (
    ActivationStore,
    BoundedFileSystemCache,
)


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


def test_analyzer_cache_bytes_for_resnet18(analyzer: Analyzer, example_bytes: bytes) -> None:
    sha = analyzer.library.ingest_bytes(example_bytes).sha256
    view = analyzer.open(ViewState(image=sha, model="resnet18", layer="conv1"))
    layers = list(view.loaded.layers)
    assert view.maps.shape[0] == 64
    size = analyzer.activations.cached_bytes(view.subject, layers)
    assert 0 < size <= 6 * 1024 * 1024


