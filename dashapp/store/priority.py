"""New images' forward passes run behind the answers the cache can give.

A worker answers warm requests (the cache holds the layer: milliseconds of
CPU) and new images (a forward pass: tens of milliseconds) on the same
cores. Run at the same priority, a burst of new images made every warm
answer wait its share of a core behind them. The forward pass of a fill
therefore runs on one of this process's fill threads, whose scheduling
priority is lower (``FILL_NICE`` more than the process's nice value, on
Linux, where each thread has its own): when both are ready, the kernel gives
the warm answer the core first, and when nothing else waits the fill has the
core to itself. The requesting thread waits for its fill as before; the
numbers are the same (the same code on another thread).

What a lower priority costs a new image is measured in ``benchmarks/load.py``
(docs/performance.md, "Under load with 5 % new images").
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
FILL_NICE = 10  # CFS weight 110 against 1,024 at nice 0: about a tenth of a contended core


def lower_this_thread(by: int = FILL_NICE) -> int | None:
    """Raise the calling thread's nice value by ``by`` (at most 19); the new
    value, or None where threads cannot have their own (not Linux)."""
    if not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return None
    tid = threading.get_native_id()
    try:
        target = min(19, os.getpriority(os.PRIO_PROCESS, tid) + by)
        os.setpriority(os.PRIO_PROCESS, tid, target)
    except OSError as exc:
        log.warning("fill threads keep the process's priority: %s", exc)
        return None
    return target


MAX_FILL_THREADS = 16  # DASHAPP_FILLS_AT_ONCE's bound: each store's own gate keeps its fills under it


class FillThreads:
    """This process's threads of lower priority that run fills, started as
    fills need them (a forked worker starts its own: threads do not survive
    a fork). Each store's gate bounds how many of its fills run at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = -1
        self._pool: ThreadPoolExecutor | None = None

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = ThreadPoolExecutor(max_workers=MAX_FILL_THREADS, thread_name_prefix="fill",
                                                initializer=lower_this_thread)
                self._pid = os.getpid()
            return self._pool

    def run(self, work: Callable[..., T], *args: object) -> T:
        """``work(*args)`` on a fill thread, in the caller's context (its
        language, its tracing), waited for; its exception is raised here."""
        context = contextvars.copy_context()
        return self._executor().submit(context.run, work, *args).result()


FILLS = FillThreads()
