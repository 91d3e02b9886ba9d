"""The Celery app for these settings: the web app sends work with it, and
``dashapp.worker`` runs it. Broker and result backend are ``DASHAPP_REDIS_URL``.
Importing this module starts nothing."""

from __future__ import annotations

from celery import Celery

from dashapp.config.settings import Settings

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
