"""Give the heap's free pages back to the system every second.

A forward pass allocates and frees tens of megabytes of activations. glibc
keeps what it freed in its arenas for the next allocation, so a worker that
analysed new images holds on to that memory afterwards: in
``benchmarks/load.py`` (15 % new images) about 200 MiB of PSS per worker more
than on warm traffic alone. Two other cures cost more: a fixed
``MALLOC_MMAP_THRESHOLD_`` returns every large block at once but made each
cold analysis about 50 % slower (every block faulted in anew), and a trim after
every analysis added ~8 ms to each. ``malloc_trim(0)`` from a background
thread every ``INTERVAL_S`` seconds costs 1–3 ms of CPU a call and nothing on
a request's path.

Only where the C library has ``malloc_trim`` (glibc); elsewhere nothing starts.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import threading
from collections.abc import Callable

__all__ = ["INTERVAL_S", "start"]

log = logging.getLogger(__name__)

INTERVAL_S = 1.0

_started_in: int | None = None  # the pid whose thread runs: a forked child starts its own
_lock = threading.Lock()


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def start(interval_s: float = INTERVAL_S) -> bool:
    """Start this process's trimming thread (once per process). False where
    the C library cannot trim."""
    global _started_in
    with _lock:
        if _started_in == os.getpid():
            return True
        trim = _malloc_trim()
        if trim is None:
            log.info("no malloc_trim in this C library: freed heap memory stays with the process")
            return False

        def run() -> None:
            stop = threading.Event()  # never set: the thread lives as long as its process
            while not stop.wait(interval_s):
                trim(0)

        threading.Thread(target=run, name="heap-trim", daemon=True).start()
        _started_in = os.getpid()
        return True
