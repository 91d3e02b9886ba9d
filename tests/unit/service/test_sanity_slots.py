"""Concurrent sanity checks are bounded per worker: each randomizes a private
deep copy of the model, so at most MAX_CONCURRENT_SANITY run at once; the
next waits its turn, and past SANITY_WAIT_S it is told the server is busy."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

from dashapp.errors import UserError
from dashapp.service import evidence as service_evidence
from dashapp.service.evidence import MAX_CONCURRENT_SANITY, sanity


class Store:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def key(self, subject: Any, name: str) -> str:
        return f"{subject.sha}:{name}"

    def get_blob(self, key: str) -> bytes | None:
        return self.blobs.get(key)

    def put_blob(self, key: str, blob: bytes) -> None:
        self.blobs[key] = blob


def subject(number: int) -> Any:
    model = SimpleNamespace(categories=["a", "b"], weights=SimpleNamespace(pretrained=False))
    return SimpleNamespace(sha=f"image{number}", model=model, image=None)


def test_concurrent_sanity_checks_wait_for_a_slot_and_are_told_busy_past_the_wait(monkeypatch) -> None:
    running, most, release = [0], [0], threading.Event()
    guard = threading.Lock()

    def fake_check(*_args: Any, **_kwargs: Any) -> Any:  # stands for the deep copy and its cascade
        with guard:
            running[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(10)
        with guard:
            running[0] -= 1
        return SimpleNamespace(as_dict=lambda: {"steps": [], "word": "ok", "reason": "x"})

    monkeypatch.setattr(service_evidence, "evidence_sanity", fake_check)
    monkeypatch.setattr(service_evidence, "with_sentence", lambda result, _pretrained: result)
    monkeypatch.setattr(service_evidence, "SANITY_WAIT_S", 0.5)
    store, layer = Store(), SimpleNamespace(name="features.10")
    answers: list[Any] = []

    def one(number: int) -> None:
        try:
            answers.append(sanity(store, subject(number), layer, 1, "gradcam"))
        except UserError as exc:
            answers.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)  # past the wait: whoever has no slot by now was told "busy"
    release.set()
    for thread in threads:
        thread.join(10)
    assert most[0] == MAX_CONCURRENT_SANITY
    busy = [a for a in answers if isinstance(a, UserError)]
    assert len(busy) == 8 - MAX_CONCURRENT_SANITY
    assert all(a.status == 429 and "try again" in a.message for a in busy)
    # Slots are free again: a later check runs.
    assert sanity(store, subject(99), layer, 1, "gradcam") is not None


def test_a_check_that_waited_reads_the_result_the_first_one_stored(monkeypatch) -> None:
    calls: list[int] = []
    gate = threading.Event()

    def fake_check(*_args: Any, **_kwargs: Any) -> Any:
        calls.append(1)
        gate.wait(10)
        return SimpleNamespace(as_dict=lambda: {"steps": [], "word": "ok", "reason": "x"})

    monkeypatch.setattr(service_evidence, "evidence_sanity", fake_check)
    monkeypatch.setattr(service_evidence, "MAX_CONCURRENT_SANITY", 1)
    monkeypatch.setattr(service_evidence, "_SANITY_SLOTS", threading.BoundedSemaphore(1))
    store, layer = Store(), SimpleNamespace(name="features.10")
    first = threading.Thread(target=sanity, args=(store, subject(1), layer, 1, "gradcam"))
    first.start()
    while not calls:
        time.sleep(0.01)
    second: list[Any] = []
    waiter = threading.Thread(target=lambda: second.append(sanity(store, subject(1), layer, 1, "gradcam")))
    waiter.start()
    gate.set()
    first.join(10)
    waiter.join(10)
    assert len(calls) == 1 and second and second[0]["word"] == "ok"
