"""Torch's threads in a process forked from a busy one.

A page job runs in a process forked from the web worker (Dash's
DiskcacheManager) or from a Celery worker. A request thread of the web
worker may have run torch's OpenMP thread team; libgomp is not fork-safe,
so a child forked from such a thread hangs, for good, at its first parallel
region (seen: a feature visualization job asleep in a futex inside
``Parameter.__deepcopy__``, 0 s of CPU). On one thread ATen never enters a
parallel region (``at::parallel_for`` runs inline), so a forked job computes
on one thread.
"""

from __future__ import annotations

import torch


def one_thread_after_fork() -> None:
    """Call first thing in a forked process, before any torch computation."""
    torch.set_num_threads(1)
