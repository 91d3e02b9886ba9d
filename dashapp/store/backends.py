"""The shared cache backends every worker sees: a bounded folder, or Redis.

Both store raw bytes and read raw bytes back: ``RawBytes`` replaces
Flask-Caching's serializers, which call ``pickle.loads`` on every read, so
whoever can write to the cache folder or the Redis cannot run code in the
app. The activation store only ever stores bytes in its own format.
"""

from __future__ import annotations

import threading
from typing import IO, Any

from flask_caching.backends import FileSystemCache, RedisCache

REDIS_TIMEOUT_S = 0.5


class RawBytes:
    """A cachelib serializer that never unpickles: bytes in, bytes out."""

    @staticmethod
    def _bytes(value: Any) -> bytes:
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"the cache stores bytes only, not {type(value).__name__}")
        return bytes(value)

    def dumps(self, value: Any, *_args: Any) -> bytes:
        return self._bytes(value)

    def loads(self, value: bytes | None) -> bytes | None:
        return None if value is None else bytes(value)

    def dump(self, value: Any, f: IO[bytes], *_args: Any) -> None:
        f.write(self._bytes(value))

    def load(self, f: IO[bytes]) -> bytes:
        return f.read()


class RawRedisCache(RedisCache):
    serializer = RawBytes()


class BoundedFileSystemCache(FileSystemCache):
    """FileSystemCache whose entry count is read from the directory itself.

    cachelib keeps the count in a file updated read-modify-write, which drifts
    when several workers write at once; counting the folder keeps the bound
    true under load (a few thousand entries list in about a millisecond).
    """

    serializer = RawBytes()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_batch = threading.local()
        self._batch_lock = threading.Lock()

    @property
    def _file_count(self) -> int:  # type: ignore[override]
        return sum(1 for _ in self._list_dir())

    def _update_count(self, delta: int | None = None, value: int | None = None) -> None:
        return None

    def _prune(self) -> None:
        if not getattr(self._in_batch, "active", False):
            super()._prune()

    def set_many(self, mapping: dict[str, Any], timeout: int | None = None) -> list[Any]:
        """One look at the folder for a whole fill (21 entries for ResNet18),
        making room for all of it first, instead of one per entry."""
        with self._batch_lock:
            threshold = self._threshold
            try:
                if threshold:
                    self._threshold = max(1, threshold - len(mapping))
                    super()._prune()
            finally:
                self._threshold = threshold
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


