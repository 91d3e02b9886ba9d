"""A new image's forward pass runs on a fill thread of lower priority than
the request that asked for it, with the same numbers and the caller's
context; a forked worker starts its own fill threads."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from dashapp import i18n
from dashapp.analysis.models.capture import Capture, Prediction
from dashapp.store import ActivationStore, BoundedFileSystemCache
from dashapp.store import priority as store_priority
from dashapp.store.priority import FILL_NICE, FILLS, FillThreads

from .test_activations import subject

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="threads have their own nice value on Linux only")


def own_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@linux_only
def test_a_fill_runs_at_lower_priority_and_answers_as_the_caller_would() -> None:
    seen: dict[str, object] = {}

    def work(value: int) -> int:
        seen.update(nice=own_nice(), thread=threading.get_ident(), language=i18n.current())
        return value * 2

    with i18n.speaking("es"):
        assert FILLS.run(work, 21) == 42
    assert seen["thread"] != threading.get_ident()
    assert seen["nice"] == min(19, own_nice() + FILL_NICE)
    assert seen["language"] == "es"  # the caller's context went with the work
    assert own_nice() < FILL_NICE  # the caller's own priority is untouched


def test_a_fills_exception_is_raised_in_the_caller() -> None:
    def fails() -> None:
        raise ValueError("no pass")

    with pytest.raises(ValueError, match="no pass"):
        FILLS.run(fails)


@linux_only
def test_the_store_computes_a_miss_on_a_fill_thread(tmp_path: Path) -> None:
    niceness: list[int] = []

    def compute(_model: object, _image: object) -> Capture:
        niceness.append(own_nice())
        maps = {"l0": np.arange(4, dtype=np.float32).reshape(1, 2, 2)}
        return Capture(responses=maps, top=[Prediction(0, "y", 1.0)], weights=None)  # type: ignore[arg-type]

    backend = BoundedFileSystemCache(str(tmp_path / "c"), threshold=100, default_timeout=60)
    store = ActivationStore(backend, compute=compute)
    maps = store.layer(subject("a" * 64), "l0")
    np.testing.assert_array_equal(maps, np.arange(4, dtype=np.float32).reshape(1, 2, 2))
    assert niceness == [min(19, own_nice() + FILL_NICE)]


def test_a_forked_worker_starts_its_own_fill_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    fills = FillThreads()
    parent = fills._executor()
    assert fills._executor() is parent
    child_pid = os.getpid() + 1
    monkeypatch.setattr(store_priority.os, "getpid", lambda: child_pid)  # as a forked worker sees it
    child = fills._executor()
    assert child is not parent  # the parent's threads are not in the child
    assert fills.run(lambda: "ran") == "ran"


def test_where_a_thread_cannot_be_lowered_fills_run_as_they_are(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object) -> None:
        raise PermissionError("not allowed")

    monkeypatch.setattr(store_priority.os, "setpriority", refuse)
    assert store_priority.lower_this_thread() is None
