"""Celery workers for collection scans: ``celery -A dashapp.worker worker``.

Broker and result backend are ``DASHAPP_REDIS_URL``. A task scans one shard
of a collection and stores its result in the blob store (Redis); the last
shard to finish merges. Tasks are acknowledged late and rejected when their
worker is lost, so a worker killed mid-shard loses nothing: the broker
delivers the shard again (after ``DASHAPP_SCAN_VISIBILITY_TIMEOUT`` when the
whole worker host died), and a shard whose result is stored is not redone.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from celery import Celery

from .collections.scanning import Scanner, ScanPlan
from .settings import Settings, load_settings

log = logging.getLogger(__name__)

SHARD_TASK = "dashapp.scan_shard"


def make_celery(settings: Settings) -> Celery:
    """The Celery app for these settings (workers, and the web app sending shards)."""
    celery = Celery("dashapp", broker=settings.redis_url or "memory://", backend=settings.redis_url or None)
    celery.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,  # shard results go to the blob store, not the result backend
        worker_prefetch_multiplier=1,  # one shard reserved at a time: a dying worker holds little
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.scan_visibility_timeout_s,
            # kombu sweeps for such tasks every interval x throttle seconds
            # (100 s by default); sweep every few seconds instead (one cheap
            # ZRANGE), so a lost shard comes back soon after its timeout.
            "unacked_restore_interval": max(1, min(10, settings.scan_visibility_timeout_s // 2)),
            "unacked_restore_throttle": 1,
        },
        worker_hijack_root_logger=False,
    )
    return celery


settings = load_settings()
app = make_celery(settings)


@lru_cache(maxsize=1)
def scanner() -> Scanner:
    """One scanner (and one model registry) per worker process."""
    from .collections.runtime import scanner_for

    return scanner_for(settings)


@app.task(bind=True, name=SHARD_TASK, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def scan_shard(self, collection_id: str, model: str, index: int, shard_size: int,  # type: ignore[no-untyped-def]
               batch_size: int) -> bool:
    """Scan shard ``index`` of (collection, model) as the sender planned it; True when it ran to its end."""
    plan: ScanPlan = scanner().plan(collection_id, model, shard_size, batch_size)
    try:
        return scanner().run_shard(plan, index)
    except Exception as exc:
        if self.request.retries < self.max_retries:
            log.warning("shard %d of %s failed (%s); retrying", index, plan.base, exc)
            raise self.retry(exc=exc, countdown=2 ** self.request.retries) from exc
        scanner().fail(plan, f"shard {index}: {exc}")
        raise
