"""Build the collection services from settings, for the web app and for
Celery workers alike (the same stores, the same shard plan)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from dashapp.analysis.models.registry import ModelRegistry
from dashapp.config.settings import Settings

from ..i18n import _
from ..intake import Limits
from ..store import FileImageStore, RedisImageStore
from .blobs import blob_store
from .demo import DEMO_NAME, demo_entries
from .manifest import Collection, CollectionStore, build_collection
from .scanning import Dispatch, Scanner, in_process
from .sources import CollectionError, CollectionLimits, from_files, from_folder, from_zip


def image_store_for(settings: Settings) -> Any:
    if settings.redis_url:
        return RedisImageStore(settings.redis_url, settings.max_pixels, settings.image_store_max_bytes)
    return FileImageStore(settings.images_dir, settings.max_pixels, settings.image_store_max_bytes)


def registry_for(settings: Settings) -> ModelRegistry:
    return ModelRegistry(settings.models, settings.weights, seed=settings.random_seed, device=settings.device,
                         mirror=settings.weights_mirror, shared_dir=settings.shared_weights_dir)


def collection_limits(settings: Settings) -> CollectionLimits:
    return CollectionLimits(max_images=settings.collection_max_images, max_bytes=settings.collection_max_bytes,
                            max_file_bytes=settings.max_upload_bytes)


def intake_limits(settings: Settings) -> Limits:
    return Limits.from_settings(settings)


def celery_dispatch(settings: Settings) -> Dispatch:
    """One Celery task per shard on the settings' broker; the last shard to finish merges."""
    from dashapp.config.celery_app import SHARD_TASK, make_celery

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
    images = image_store or image_store_for(settings)
    return Scanner(blobs, CollectionStore(blobs, images), images,
                   registry or registry_for(settings), settings.scan_shard, settings.scan_batch, chosen)


def _store(scanner: Scanner, collection: Collection,
           claim: Callable[[Collection], Collection] | None = None) -> Collection:
    if not collection.images:
        listed = "; ".join(f"{r.name}: {r.reason}" for r in collection.rejected[:3])
        if listed:
            raise CollectionError(_("No usable image was found ({reasons}).").format(reasons=listed))
        raise CollectionError(_("No usable image was found."))
    return scanner.collections.put(claim(collection) if claim else collection)


def ingest_upload(settings: Settings, scanner: Scanner, name: str, files: list[tuple[str, bytes]],
                  claim: Callable[[Collection], Collection] | None = None) -> Collection:
    """Many files, or one zip (recognised by its bytes, not its name); ``claim``
    makes it its uploader's (collections/owners.py) before it is stored."""
    limits = collection_limits(settings)
    if len(files) == 1 and files[0][1][:4] == b"PK\x03\x04":
        entries = from_zip(files[0][1], limits)
        name = name or files[0][0].rsplit(".", 1)[0]
    else:
        entries = from_files(files, limits)
    return _store(scanner, build_collection(name or "upload", entries, scanner.images, intake_limits(settings)),
                  claim)


def ingest_folder(settings: Settings, scanner: Scanner, folder: str) -> Collection:
    if settings.collections_dir is None:
        raise CollectionError(_("No collections folder is configured (DASHAPP_COLLECTIONS_DIR)."))
    entries = from_folder(settings.collections_dir, folder, collection_limits(settings))
    return _store(scanner, build_collection(folder, entries, scanner.images, intake_limits(settings)))


def ingest_demo(settings: Settings, scanner: Scanner) -> Collection:
    # Bundled files are ours: the upload size limit is for users.
    limits = dataclasses.replace(intake_limits(settings), max_bytes=max(settings.max_upload_bytes, 8 << 20))
    return _store(scanner, build_collection(DEMO_NAME, demo_entries(), scanner.images, limits))
