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
from typing import Any

from dashapp.config.celery_app import SHARD_TASK, make_celery
from dashapp.config.settings import load_settings

from .collections.scanning import Scanner, ScanPlan

log = logging.getLogger(__name__)

settings = load_settings()
app = make_celery(settings)


@lru_cache(maxsize=1)
def scanner() -> Scanner:
    """One scanner (and one model registry) per worker process."""
    from .collections.runtime import scanner_for

    return scanner_for(settings)


@app.task(bind=True, name=SHARD_TASK, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def scan_shard(self: Any, collection_id: str, model: str, index: int, shard_size: int,
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


def _register_page_jobs() -> None:
    """With Redis, the pages' background callbacks (feature visualization)
    run here too, through Dash's ``CeleryManager``: Dash names each one as a
    task when the app registers its callbacks, so the worker builds the same
    app on this Celery instance to know them."""
    if settings.redis_url:
        from . import create_app

        create_app(settings, celery=app)


_register_page_jobs()
