"""A fill made while its thread defers its writes (the web app does, per
request) writes the shared cache in the background; the request waits for its
own writes before its answer leaves, and a reader in the process meanwhile
gets the stored entry, not a miss."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from dash import Dash

from dashapp.service import Analyzer
from dashapp.state.schema import ViewState
from dashapp.store import ActivationStore, BoundedFileSystemCache
from dashapp.store import activations as store_activations

from .test_activations import BrokenBackend, CountingCompute, subject

WAIT_S = 30.0  # a bound on waiting for a condition, never a measure of speed


class HeldBackend(BoundedFileSystemCache):
    """A folder cache whose batch writes wait until released, telling when one started."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path), threshold=100, default_timeout=60)
        self.writing = threading.Event()
        self.release = threading.Event()
        self.writer_threads: list[str] = []

    def set_many(self, mapping: dict[str, Any], timeout: Any = None) -> list[Any]:
        self.writer_threads.append(threading.current_thread().name)
        self.writing.set()
        assert self.release.wait(WAIT_S)
        return super().set_many(mapping, timeout)


def raw_entries(backend: BoundedFileSystemCache, store: ActivationStore, sha: str) -> dict[str, bytes | None]:
    """What the backend itself holds (not through the store) for the three layers and the meta."""
    return {name: backend.get(store.key(subject(sha), name)) for name in ("l0", "l1", "l2", "__meta__")}


def test_a_deferred_fill_answers_before_its_writes_and_finish_waits_for_them(tmp_path: Path) -> None:
    backend = HeldBackend(tmp_path / "c")
    store = ActivationStore(backend, compute=CountingCompute())
    sha = "a" * 64
    answered, finished = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    def request() -> None:  # what the web app does around each request
        store.defer_writes()
        seen["maps"] = store.layer(subject(sha), "l2")
        seen["top"] = store.meta(subject(sha))["top"]
        answered.set()
        store.finish_writes()
        finished.set()

    thread = threading.Thread(target=request, daemon=True)
    thread.start()
    try:
        # The answer's numbers come while the write is still held.
        assert answered.wait(WAIT_S) and backend.writing.wait(WAIT_S)
        assert seen["maps"][0, 0, 0] == 2.0 and seen["top"][0]["label"] == "x"
        assert backend.writer_threads == ["activation-writes_0"]
        assert all(blob is None for blob in raw_entries(backend, store, sha).values())
        assert not finished.wait(0.5)  # the request waits for its writes before it ends
    finally:
        backend.release.set()
    assert finished.wait(WAIT_S)
    assert all(blob is not None for blob in raw_entries(backend, store, sha).values())
    # Not deferring (this thread never did): a fill writes before it returns, as before.
    store.layer(subject("b" * 64), "l0")
    assert all(blob is not None for blob in raw_entries(backend, store, "b" * 64).values())


def test_deferred_and_direct_fills_store_the_same_bytes(tmp_path: Path) -> None:
    direct_backend = BoundedFileSystemCache(str(tmp_path / "d"), threshold=100, default_timeout=60)
    deferred_backend = BoundedFileSystemCache(str(tmp_path / "b"), threshold=100, default_timeout=60)
    direct = ActivationStore(direct_backend, compute=CountingCompute())
    deferred = ActivationStore(deferred_backend, compute=CountingCompute())
    sha = "c" * 64
    direct.layer(subject(sha), "l0")
    deferred.defer_writes()
    deferred.layer(subject(sha), "l0")
    deferred.finish_writes()
    assert raw_entries(direct_backend, direct, sha) == raw_entries(deferred_backend, deferred, sha)


def test_a_reader_in_the_process_waits_for_the_write_in_flight_instead_of_computing(tmp_path: Path) -> None:
    backend = HeldBackend(tmp_path / "c")
    compute = CountingCompute()
    store = ActivationStore(backend, compute=compute)
    sha = "e" * 64
    store.defer_writes()
    read: list[np.ndarray] = []
    try:
        expected = store.layer(subject(sha), "l1").copy()
        assert backend.writing.wait(WAIT_S)
        other = ActivationStore(backend, compute=compute)  # another store of this process, empty memory
        reader = threading.Thread(target=lambda: read.append(other.layer(subject(sha), "l1")), daemon=True)
        reader.start()
        reader.join(0.5)
        assert reader.is_alive() and not read  # waiting for the write, not computing
        backend.release.set()
        reader.join(WAIT_S)
    finally:
        backend.release.set()
        store.finish_writes()
    assert len(read) == 1
    np.testing.assert_array_equal(read[0], expected)
    assert compute.calls == 1 and other.stats["computes"] == 0 and other.stats["hits"] == 1


def test_a_failing_backend_in_the_background_still_answers_and_is_counted() -> None:
    store = ActivationStore(BrokenBackend(), compute=CountingCompute())
    store.defer_writes()
    assert store.layer(subject("f" * 64), "l1")[0, 0, 0] == 1.0
    store.finish_writes()
    assert store.stats["backend_errors"] >= 1


def test_a_forked_worker_gets_its_own_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    parent = store_activations.write_behind()
    assert parent is not None and store_activations.write_behind() is parent
    child_pid = os.getpid() + 1
    monkeypatch.setattr(store_activations.os, "getpid", lambda: child_pid)  # as a forked worker sees it
    assert store_activations.write_behind(create=False) is None  # the parent's thread is not in the child
    child = store_activations.write_behind()
    assert child is not None and child is not parent and child.pid == child_pid
    done = child.submit(["k"], lambda: None)
    assert done.wait(WAIT_S)  # the child's own thread writes


def test_the_web_app_defers_a_requests_writes_and_ends_it_with_them_written(
        make_app: Callable[..., Dash], analyzer: Analyzer, example_bytes: bytes,
        monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_app(analyzer).server.test_client()
    sha = client.post("/api/images", data=example_bytes, content_type="image/png").get_json()["sha256"]
    submitted: list[threading.Event] = []
    writer = store_activations.write_behind()
    assert writer is not None
    submit = writer.submit

    def spy(keys: list[str], write: Callable[[], None]) -> threading.Event:
        submitted.append(submit(keys, write))
        return submitted[-1]

    monkeypatch.setattr(writer, "submit", spy)
    answer = client.get(f"/api/analysis?image={sha}&model=resnet18&layer=layer1.0.conv1&n=3")
    assert answer.status_code == 200
    assert len(submitted) == 1 and submitted[0].is_set()  # written in the background, done before the answer
    view = analyzer.open(ViewState(image=sha, model="resnet18", layer="layer1.0.conv1"))
    layers = list(view.loaded.layers)
    for name in [*layers, "__meta__"]:
        assert analyzer.activations.backend.get(analyzer.activations.key(view.subject, name)) is not None
    assert getattr(analyzer.activations._deferred, "writes", None) is None  # this thread defers nothing now

