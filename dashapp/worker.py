"""Celery workers for collection scans: ``celery -A dashapp.worker worker``.

Broker and result backend are ``DASHAPP_REDIS_URL``. A task scans one shard
of a collection and stores its result in the blob store (Redis); the last
shard to finish merges. Tasks are acknowledged late and rejected when their
worker is lost, so a worker killed mid-shard loses nothing: the broker
delivers the shard again (after ``DASHAPP_SCAN_VISIBILITY_TIMEOUT`` when the
whole worker host died), and a shard whose result is stored is not redone.

The Procfile's command works whatever the environment. The default prefork
pool forks its processes from this one, and a process forked from one that
ran torch's OpenMP thread team hangs at its first parallel region (the team's
locks belong to threads the child does not have). This process builds the
app (with Redis, to learn the page jobs' task names), which traces every
model, so it computes on one thread only: no team is ever started here. Each
pool process then sets its own thread count (``OMP_NUM_THREADS``, else 1:
scale with ``--concurrency``).

A shard that runs past ``DASHAPP_SCAN_TIME_LIMIT`` seconds is stopped (a soft
limit raises in the task; the hard limit, up to 30 s later, kills a process stuck
where Python cannot interrupt it) and its scan fails with a message saying
so, instead of staying "running" for good.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from typing import Any

import torch
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from celery.signals import worker_process_init

from dashapp.config.celery_app import SHARD_TASK, make_celery
from dashapp.config.settings import load_settings

from .collections.scanning import Scanner, ScanPlan
from .service.concepts.runtime import register_task as register_concept_task

log = logging.getLogger(__name__)

torch.set_num_threads(1)  # before anything here computes: see the module's docstring

settings = load_settings()
app = make_celery(settings)
# The hard limit's grace after the soft one: up to 30 s for the task to stop itself.
HARD_LIMIT_S = settings.scan_time_limit_s + min(30, max(2, settings.scan_time_limit_s // 4))


@worker_process_init.connect
def _threads_of_a_pool_process(**_: Any) -> None:
    threads = os.environ.get("OMP_NUM_THREADS", "")
    torch.set_num_threads(int(threads) if threads.isdigit() and int(threads) > 0 else 1)


@lru_cache(maxsize=1)
def scanner() -> Scanner:
    """One scanner (and one model registry) per worker process."""
    from .collections.runtime import scanner_for

    return scanner_for(settings)


def _shard_timed_out(collection_id: str, model: str, index: int, shard_size: int, batch_size: int) -> None:
    plan = scanner().plan(collection_id, model, shard_size, batch_size)
    log.error("shard %d of %s ran past %d s", index, plan.base, settings.scan_time_limit_s)
    scanner().fail(plan, f"shard {index} ran past the {settings.scan_time_limit_s} s time limit")


class ShardTask(app.Task):  # type: ignore[name-defined]
    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        """A hard time limit kills the pool process; the parent calls this for it."""
        if isinstance(exc, TimeLimitExceeded):
            _shard_timed_out(*args)


@app.task(bind=True, base=ShardTask, name=SHARD_TASK, acks_late=True, reject_on_worker_lost=True, max_retries=5,
          soft_time_limit=settings.scan_time_limit_s, time_limit=HARD_LIMIT_S)
def scan_shard(self: Any, collection_id: str, model: str, index: int, shard_size: int,
               batch_size: int) -> bool:
    """Scan shard ``index`` of (collection, model) as the sender planned it; True when it ran to its end."""
    plan: ScanPlan = scanner().plan(collection_id, model, shard_size, batch_size)
    try:
        return scanner().run_shard(plan, index)
    except SoftTimeLimitExceeded:
        _shard_timed_out(collection_id, model, index, shard_size, batch_size)
        raise
    except Exception as exc:
        if self.request.retries < self.max_retries:
            log.warning("shard %d of %s failed (%s); retrying", index, plan.base, exc)
            raise self.retry(exc=exc, countdown=2 ** self.request.retries) from exc
        scanner().fail(plan, f"shard {index}: {exc}")
        raise


register_concept_task(app, settings, scanner)  # concept tests (TCAV): one task per job


def _register_page_jobs() -> None:
    """With Redis, the pages' background callbacks (feature visualization)
    run here too, through Dash's ``CeleryManager``: Dash names each one as a
    task when the app registers its callbacks, so the worker builds the same
    app on this Celery instance to know them."""
    if settings.redis_url:
        from . import create_app

        create_app(settings, celery=app)


_register_page_jobs()
