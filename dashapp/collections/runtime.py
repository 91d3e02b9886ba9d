"""Build the collection services from settings, for the web app and for
Celery workers alike (the same stores, the same shard plan)."""

from __future__ import annotations

from typing import Any

from ..analysis.models import ModelRegistry
from ..intake import Limits
from ..settings import Settings
from ..store import FileImageStore, RedisImageStore
from .blobs import blob_store
from .manifest import CollectionStore
from .scanning import Dispatch, Scanner, in_process
from .sources import CollectionLimits


def image_store_for(settings: Settings) -> Any:
    if settings.redis_url:
        return RedisImageStore(settings.redis_url, settings.max_pixels)
    return FileImageStore(settings.images_dir, settings.max_pixels)


def registry_for(settings: Settings) -> ModelRegistry:
    return ModelRegistry(settings.models, settings.weights, seed=settings.random_seed, device=settings.device,
                         mirror=settings.weights_mirror)


def collection_limits(settings: Settings) -> CollectionLimits:
    return CollectionLimits(max_images=settings.collection_max_images, max_bytes=settings.collection_max_bytes,
                            max_file_bytes=settings.max_upload_bytes)


def intake_limits(settings: Settings) -> Limits:
    return Limits.from_settings(settings)


def celery_dispatch(settings: Settings) -> Dispatch:
    """One Celery task per shard on the settings' broker; the last shard to finish merges."""
    from ..worker import SHARD_TASK, make_celery

    client = make_celery(settings)

    def dispatch(scanner: Scanner, plan: Any) -> None:
        for index in range(len(plan.shards)):
            client.send_task(SHARD_TASK, args=[plan.collection.id, plan.model, index, plan.shard_size,
                                               plan.batch_size])

    return dispatch


def scanner_for(settings: Settings, registry: Any | None = None, image_store: Any | None = None,
                dispatch: Dispatch | None = None) -> Scanner:
    """With DASHAPP_REDIS_URL the shards go to Celery workers; without it
    they run in a background thread of this process (no other service)."""
    blobs = blob_store(settings)
    chosen = dispatch or (celery_dispatch(settings) if settings.redis_url else in_process)
    return Scanner(blobs, CollectionStore(blobs), image_store or image_store_for(settings),
                   registry or registry_for(settings), settings.scan_shard, settings.scan_batch, chosen)
