"""The shared cache backends every worker sees: a bounded folder, or Redis.

Both store raw bytes and read raw bytes back: ``RawBytes`` replaces
Flask-Caching's serializers, which call ``pickle.loads`` on every read, so
whoever can write to the cache folder or the Redis cannot run code in the
app. The activation store only ever stores bytes in its own format.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import pickle
import threading
from typing import IO, Any

from cachelib.serializers import FileSystemSerializer, RedisSerializer
from flask_caching.backends import FileSystemCache, RedisCache

REDIS_TIMEOUT_S = 0.5


class RawBytes(RedisSerializer, FileSystemSerializer):
    """A cachelib serializer that never unpickles: bytes in, bytes out (for
    both backends: every method of the pickling ones is replaced)."""

    @staticmethod
    def _bytes(value: Any) -> bytes:
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"the cache stores bytes only, not {type(value).__name__}")
        return bytes(value)

    def dumps(self, value: Any, protocol: int = pickle.HIGHEST_PROTOCOL) -> bytes:
        return self._bytes(value)

    def loads(self, value: bytes | None) -> bytes | None:
        return None if value is None else bytes(value)

    def dump(self, value: Any, f: IO[bytes], protocol: int = pickle.HIGHEST_PROTOCOL) -> None:
        f.write(self._bytes(value))

    def load(self, f: IO[bytes]) -> bytes:
        return f.read()


class RawRedisCache(RedisCache):
    serializer = RawBytes()


class BoundedFileSystemCache(FileSystemCache):
    """FileSystemCache whose bound is kept from the directory itself, cheaply.

    cachelib keeps the entry count in a file updated read-modify-write, which
    drifts when several workers write at once; counting the folder keeps the
    bound true under load. cachelib's own pruning, once the folder is full,
    opened every entry twice (to read its expiry) and listed the folder again,
    hashing a name per entry, after each removal: about 390 ms for every new
    image's 22 entries in a full folder of 4,000 (``DASHAPP_CACHE_MAX_ENTRIES``),
    on the request's path. Here a full folder loses its least recently used
    entries, by modification time, read from one directory scan without
    opening anything, and down to ``LOW_WATER`` of the bound, so the next
    fills find room without a prune. A read sets the entry's modification
    time to now: the layers every user keeps opening (the examples) stay while
    new images stream through. (cachelib's order came to write time alone:
    under a stream of new images, the examples' entries, written first, went
    first, and their next reader paid a forward pass.) The expiry cachelib
    writes inside each file is not touched: expired entries are still refused
    on read.
    """

    serializer = RawBytes()
    LOW_WATER = 0.9

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_batch = threading.local()
        self._batch_lock = threading.Lock()
        self._count_name = os.path.basename(self._get_filename(self._fs_count_file))

    def _entries(self) -> list[os.DirEntry[str]]:
        """The folder's entries, without cachelib's count file and half-written files."""
        with os.scandir(self._path) as scan:
            return [entry for entry in scan
                    if entry.name != self._count_name and not entry.name.endswith(self._fs_transaction_suffix)]

    @property
    def _file_count(self) -> int:
        return len(self._entries())

    def _update_count(self, delta: int | None = None, value: int | None = None) -> None:
        return None

    def _make_room(self, incoming: int) -> None:
        """Remove the least recently used entries until ``incoming`` new ones fit under the bound."""
        if not self._threshold:
            return
        entries = self._entries()
        if len(entries) + incoming <= self._threshold:
            return
        keep = max(0, int(self._threshold * self.LOW_WATER) - incoming)  # LOW_WATER < 1: under the bound

        def last_used(entry: os.DirEntry[str]) -> int:
            try:
                return entry.stat().st_mtime_ns
            except FileNotFoundError:  # another worker removed it
                return 0

        for entry in sorted(entries, key=last_used)[: max(0, len(entries) - keep)]:
            with contextlib.suppress(FileNotFoundError):  # another worker removed it first
                os.remove(entry.path)

    def get(self, key: str) -> Any:
        value = super().get(key)
        if value is not None:
            with contextlib.suppress(OSError):  # removed meanwhile by another worker's pruning
                os.utime(self._get_filename(key))
        return value

    def _prune(self) -> None:
        if not getattr(self._in_batch, "active", False):
            self._make_room(1)

    def set_many(self, mapping: dict[str, Any], timeout: int | datetime.timedelta | None = None) -> list[Any]:
        """Room for a whole fill (21 entries for ResNet18) made once, before it
        is written, instead of once per entry."""
        with self._batch_lock:
            self._make_room(len(mapping))
        self._in_batch.active = True
        try:
            return super().set_many(mapping, timeout)
        finally:
            self._in_batch.active = False


def redis_client(url: str, timeout_s: float) -> Any:
    """A client that fails fast: no retries, short timeouts. A cache that is
    down must cost a request milliseconds, not seconds."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                                retry=Retry(NoBackoff(), 0), retry_on_timeout=False)


def make_backend(settings: Any) -> Any:
    if settings.redis_url:
        client = redis_client(settings.redis_url, REDIS_TIMEOUT_S)
        return RawRedisCache(host=client, default_timeout=settings.cache_ttl_s, key_prefix="dashapp:act:")
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    return BoundedFileSystemCache(
        str(settings.cache_dir), threshold=settings.cache_max_entries, default_timeout=settings.cache_ttl_s
    )


