"""dashapp/intake/decode.py: at most MAX_CONCURRENT_DECODES decodes at once
per process (issue 11, finding 5: a 40 MP decode peaks at ~440 MB)."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest

from dashapp.intake import accept_bytes, decode
from tests.support.hostile import encode, noise


def test_a_burst_of_uploads_decodes_two_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    real = decode._open_and_load
    lock = threading.Lock()
    inside = 0
    most = 0
    # Holds each decode until three are inside at once, or a second passes:
    # without a limit, the burst overlaps for sure; with one, it cannot.
    gather = threading.Barrier(3)

    def watched(*args: Any, **kwargs: Any) -> Any:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        with contextlib.suppress(threading.BrokenBarrierError):
            gather.wait(timeout=1.0)
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                inside -= 1

    monkeypatch.setattr(decode, "_open_and_load", watched)
    data = [encode(noise(64, 48, seed=s), "PNG") for s in range(6)]
    results: list[str] = []
    threads = [threading.Thread(target=lambda d=d: results.append(accept_bytes(d).sha256)) for d in data]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 6
    assert most == 2  # never more than two decodes at once
    assert decode.MAX_CONCURRENT_DECODES == 2
