"""New images take turns: one fill computes at a time per process, and a
fill that waited its turn finds what was stored meanwhile."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from dashapp.analysis.models.capture import Capture, Prediction
from dashapp.store import ActivationStore, BoundedFileSystemCache

from .test_activations import CountingCompute, subject

WAIT_S = 30.0  # a bound on waiting for a condition, never a measure of speed


class HeldCompute:
    """A forward pass that holds until released, counting how many run at once."""

    def __init__(self) -> None:
        self.running = 0
        self.most_at_once = 0
        self.calls = 0
        self.started = threading.Semaphore(0)
        self.release = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, _model: object, _image: object) -> Capture:
        with self.lock:
            self.calls += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        self.started.release()
        try:
            assert self.release.wait(WAIT_S)
            maps = {"l0": np.zeros((1, 2, 2), dtype=np.float32)}
            return Capture(responses=maps, top=[Prediction(0, "y", 1.0)], weights=None)  # type: ignore[arg-type]
        finally:
            with self.lock:
                self.running -= 1


class Turnstile(threading.Semaphore):
    """The store's gate, telling how many fills have come to it."""

    def __init__(self, at_once: int = 1) -> None:
        super().__init__(at_once)
        self.arrived = threading.Semaphore(0)

    def __enter__(self) -> bool:
        self.arrived.release()
        return super().__enter__()


def fill_concurrently(store: ActivationStore, shas: list[str]) -> list[threading.Thread]:
    threads = [threading.Thread(target=store.layer, args=(subject(sha), "l0"), daemon=True) for sha in shas]
    for thread in threads:
        thread.start()
    return threads


@pytest.mark.parametrize("at_once", [1, 2])
def test_at_most_fills_at_once_compute_together(tmp_path: Path, at_once: int) -> None:
    backend = BoundedFileSystemCache(str(tmp_path / "c"), threshold=100, default_timeout=60)
    compute = HeldCompute()
    store = ActivationStore(backend, compute=compute, fills_at_once=at_once)
    gate = Turnstile(at_once)
    assert type(store._fill_gate) is threading.Semaphore and store._fill_gate._value == at_once
    store._fill_gate = gate
    threads = fill_concurrently(store, [c * 64 for c in "abc"])
    for _ in range(3):
        assert gate.arrived.acquire(timeout=WAIT_S)
    for _ in range(at_once):
        assert compute.started.acquire(timeout=WAIT_S)
    # All three came to the gate; the others wait there: no further pass starts while these are held.
    assert not compute.started.acquire(timeout=0.5)
    assert compute.running == at_once
    compute.release.set()
    for thread in threads:
        thread.join(WAIT_S)
    assert compute.calls == 3 and compute.most_at_once == at_once


def test_a_fill_that_waited_its_turn_uses_what_another_worker_stored(tmp_path: Path) -> None:
    backend = BoundedFileSystemCache(str(tmp_path / "c"), threshold=100, default_timeout=60)
    held = HeldCompute()
    store = ActivationStore(backend, compute=held)
    store._fill_gate = gate = Turnstile()
    first = fill_concurrently(store, ["a" * 64])
    assert held.started.acquire(timeout=WAIT_S)
    waiting = fill_concurrently(store, ["b" * 64])
    assert gate.arrived.acquire(timeout=WAIT_S) and gate.arrived.acquire(timeout=WAIT_S)  # "b" waits for "a"
    other_worker = CountingCompute()
    ActivationStore(backend, compute=other_worker).layer(subject("b" * 64), "l2")
    held.release.set()
    for thread in first + waiting:
        thread.join(WAIT_S)
    assert held.calls == 1 and other_worker.calls == 1  # "b" was computed once, by the other worker
    assert store.layer(subject("b" * 64), "l1")[0, 0, 0] == 1.0
    assert held.calls == 1


def test_a_stored_answer_is_served_while_fills_compute_and_wait(tmp_path: Path) -> None:
    # One fill computing (held), one waiting its turn at the gate: a request
    # whose layers are stored is answered meanwhile, from this process.
    backend = BoundedFileSystemCache(str(tmp_path / "c"), threshold=100, default_timeout=60)
    ActivationStore(backend, compute=CountingCompute()).layer(subject("w" * 64), "l1")  # stored earlier
    held = HeldCompute()
    store = ActivationStore(backend, compute=held, fills_at_once=1)
    store._fill_gate = gate = Turnstile()
    computing = fill_concurrently(store, ["a" * 64])
    assert held.started.acquire(timeout=WAIT_S)
    waiting = fill_concurrently(store, ["b" * 64])
    assert gate.arrived.acquire(timeout=WAIT_S) and gate.arrived.acquire(timeout=WAIT_S)
    answers: list[float] = []

    def read_stored() -> None:
        answers.append(float(store.layer(subject("w" * 64), "l1")[0, 0, 0]))
        answers.append(float(store.layer(subject("w" * 64), "l2")[0, 0, 0]))  # from this process's memory

    reader = threading.Thread(target=read_stored, daemon=True)
    reader.start()
    reader.join(WAIT_S)  # a reader stuck behind the fills would still be waiting here
    assert answers == [1.0, 2.0]
    assert held.running == 1 and held.calls == 1  # answered while "a" still computes and "b" still waits
    assert all(thread.is_alive() for thread in computing + waiting)
    held.release.set()
    for thread in computing + waiting:
        thread.join(WAIT_S)
    assert held.calls == 2
