"""The Celery app for these settings: the web app sends work with it, and
``dashapp.worker`` runs it. Broker and result backend are ``DASHAPP_REDIS_URL``.
Importing this module starts nothing.

Long jobs must not starve short ones: scan shards go to the ``scans`` queue
and the pages' background callbacks (feature visualization) to ``pages``;
everything else (concept tests) to the default ``celery`` queue. A worker
consumes every queue declared here unless told otherwise (``-Q``), and
takes one message of each at a time in turn, so a backlog of page jobs never
sits in front of a scan; with ``--concurrency 2`` (the Procfile's default)
and one page job at a time per host (``service.page_jobs.SLOTS``), a scan always has a
pool process even while a long page job runs."""

from __future__ import annotations

from celery import Celery
from kombu import Queue

from dashapp.config.settings import Settings

SHARD_TASK = "dashapp.scan_shard"
SCAN_QUEUE = "scans"
PAGE_QUEUE = "pages"
DEFAULT_QUEUE = "celery"
PAGE_TASKS = "background_callback_*"  # how Dash's CeleryManager names the pages' jobs


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
        task_default_queue=DEFAULT_QUEUE,
        task_queues=[Queue(DEFAULT_QUEUE), Queue(SCAN_QUEUE), Queue(PAGE_QUEUE)],
        task_routes={SHARD_TASK: {"queue": SCAN_QUEUE}, PAGE_TASKS: {"queue": PAGE_QUEUE}},
    )
    return celery
