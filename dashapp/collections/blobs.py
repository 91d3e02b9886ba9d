"""Durable named blobs (collection manifests, scan results, job records) in
the same backends as images: a folder under the data directory, or Redis.

Nothing here expires: a scan result survives restarts like the images it
was computed from. The store is bounded
(``DASHAPP_COLLECTION_STORE_MAX_BYTES``): past the bound the least recently
used collections go, whole (manifest, scans, job records), and asking for
one then says it was evicted. Keys are short ASCII names of our own making
(``scan:<collection>:<model>:...``), never user input.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from ..store.sqlite import allocated
from .blob_index import BlobIndex, group_of
from .redis_blobs import PREFIX as REDIS_PREFIX
from .redis_blobs import RedisBlobBound

log = logging.getLogger(__name__)

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]+(:[A-Za-z0-9_.\-]+)*$")
TOUCH_EVERY_S = 60.0  # a read refreshes its group's recency at most this often per process


def _check(key: str) -> str:
    if not KEY_PATTERN.match(key) or ".." in key:
        raise ValueError(f"not a blob key: {key!r}")
    return key


class BlobStore(Protocol):
    def get(self, key: str) -> bytes | None: ...
    def peek(self, key: str) -> bytes | None: ...
    def put(self, key: str, data: bytes) -> None: ...
    def delete(self, key: str) -> None: ...
    def keys(self, prefix: str) -> list[str]: ...
    def charge(self, group: str, extra: int) -> None: ...
    def evicted_at(self, group: str) -> float | None: ...
    on_evict: list[Callable[[str], None]]


class FileBlobStore:
    """One file per key (``a:b:c`` -> ``root/a/b/c``), written atomically;
    bounded by ``max_bytes`` of allocated blocks (``BlobIndex``), least
    recently used collection first. ``on_evict`` hears each evicted group."""

    def __init__(self, root: Path, max_bytes: int | None = None) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.index = BlobIndex(root)
        self.on_evict: list[Callable[[str], None]] = []
        self._touched: dict[str, float] = {}

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*_check(key).split(":"))

    def peek(self, key: str) -> bytes | None:
        """``key``'s blob, not counted as a use (a listing of every collection)."""
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def get(self, key: str) -> bytes | None:
        data = self.peek(key)
        if data is None:
            return None
        group, now = group_of(key), time.monotonic()
        if now - self._touched.get(group, -TOUCH_EVERY_S) >= TOUCH_EVERY_S:  # recency, cheaply
            if len(self._touched) > 10_000:
                self._touched.clear()
            self._touched[group] = now
            self.index.used(key, time.time())
        return data

    def put(self, key: str, data: bytes) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Temporary file and rename: a reader sees the old blob or the new one, never half.
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            size = allocated(tmp)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        self.evicted(self.index.wrote(key, size, time.time(), self.max_bytes))

    def charge(self, group: str, extra: int) -> None:
        """Count ``extra`` bytes kept elsewhere (a collection's images) against ``group``."""
        self.evicted(self.index.charge(group, extra, time.time(), self.max_bytes))

    def evicted(self, victims: dict[str, list[str]]) -> None:
        """Remove the evicted groups' files (their rows are gone) and tell the listeners."""
        for group, keys in victims.items():
            for key in keys:
                self._remove(key)
            log.info("collection store bound: evicted %s (%d blobs)", group, len(keys))
            for listener in self.on_evict:
                listener(group)

    def evicted_at(self, group: str) -> float | None:
        return self.index.evicted_at(group)

    def _remove(self, key: str) -> None:
        """Remove ``key``'s file, then its folders left empty (a finished job's)."""
        path = self._path(key)
        path.unlink(missing_ok=True)
        for folder in path.parents:
            if folder == self.root or self.root not in folder.parents:
                break
            try:
                folder.rmdir()
            except OSError:  # not empty (or already gone)
                break

    def delete(self, key: str) -> None:
        self._remove(key)
        self.index.removed(key)

    def keys(self, prefix: str) -> list[str]:
        """Keys under ``prefix`` (a key path ending at a ':' boundary or a full key)."""
        base = self.root.joinpath(*_check(prefix.rstrip(":")).split(":"))
        if base.is_file():
            return [prefix.rstrip(":")]
        if not base.is_dir():
            return []
        found = []
        for path in base.rglob("*"):
            if path.is_file() and not path.name.startswith(".incoming-"):
                found.append(":".join(path.relative_to(self.root).parts))
        return sorted(found)


class RedisBlobStore:
    """Blobs as plain Redis strings without expiry (SET is atomic), bounded
    by ``max_bytes`` of ``MEMORY USAGE`` (``RedisBlobBound``)."""

    def __init__(self, client: Any, max_bytes: int | None = None) -> None:
        self.client = client
        self.bound = RedisBlobBound(client, max_bytes)
        self.on_evict = self.bound.on_evict

    def charge(self, group: str, extra: int) -> None:
        self.bound.charge(group, extra)

    def evicted_at(self, group: str) -> float | None:
        return self.bound.evicted_at(group)

    def peek(self, key: str) -> bytes | None:
        value = self.client.get(REDIS_PREFIX + _check(key))
        return bytes(value) if value is not None else None

    def get(self, key: str) -> bytes | None:
        value = self.peek(key)
        if value is not None:
            self.bound.used(key)
        return value

    def put(self, key: str, data: bytes) -> None:
        self.bound.put(_check(key), data)

    def delete(self, key: str) -> None:
        self.bound.delete(_check(key))

    def keys(self, prefix: str) -> list[str]:
        _check(prefix.rstrip(":"))
        pattern = REDIS_PREFIX + prefix + "*"
        names = (bytes(name).decode() for name in self.client.scan_iter(match=pattern, count=500))
        return sorted(name[len(REDIS_PREFIX):] for name in names)


def blob_store(settings: Any) -> BlobStore:
    """The blob store for these settings: Redis when configured, else files."""
    if settings.redis_url:
        from ..store import redis_client

        # Longer than the image store's timeout: a scan result can be megabytes.
        return RedisBlobStore(redis_client(settings.redis_url, 10.0), settings.collection_store_max_bytes)
    return FileBlobStore(settings.data_dir / "collections", settings.collection_store_max_bytes)
