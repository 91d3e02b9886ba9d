"""Durable image store and the shared activation cache.

``ImageStore``: content-addressed by the SHA-256 of the normalized image,
written atomically (a partial image is never visible), on disk by default or
in Redis. ``ActivationStore``: Flask-Caching backends shared by every worker
(a FileSystemCache under the data directory, or RedisCache), holding compact
float16 blobs (non-zero values and a bitmask) keyed by (image, model,
weights, layer). A failing backend degrades to recomputing; it never fails a
request.
"""

from __future__ import annotations

import json
import logging
import os
import re
import struct
import tempfile
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from flask_caching.backends import FileSystemCache, RedisCache
from PIL import Image

from .intake import AcceptedImage, IntakeError, Limits, decode_stored_png, image_sha256

log = logging.getLogger(__name__)

SHA_PATTERN = re.compile(r"^[0-9a-f]{64}$")
BLOB_MAGIC = b"ACT2"
KEY_VERSION = "v2"
# After a backend error, skip it for this long instead of making every
# request wait for the same timeout.
BACKEND_RETRY_S = 2.0
REDIS_TIMEOUT_S = 0.5


def is_sha256(value: object) -> bool:
    return isinstance(value, str) and bool(SHA_PATTERN.match(value))


class LruDict:
    """A small thread-safe LRU mapping bounded by total ``cost``."""

    def __init__(self, max_cost: int) -> None:
        self.max_cost = max_cost
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._cost = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: Any, cost: int) -> None:
        if cost > self.max_cost:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._cost -= old[1]
            self._items[key] = (value, cost)
            self._cost += cost
            while self._cost > self.max_cost:
                _, (_, dropped) = self._items.popitem(last=False)
                self._cost -= dropped


# ---------------------------------------------------------------- images


class ImageStore(Protocol):
    def put(self, accepted: AcceptedImage) -> str: ...
    def get(self, sha: str) -> Image.Image | None: ...
    def has(self, sha: str) -> bool: ...


class _VerifyingImageStore:
    """Shared read path: decode, verify the hash, keep a few decoded images."""

    def __init__(self, max_pixels: int) -> None:
        self.limits = Limits(max_pixels=max_pixels)
        self._decoded = LruDict(max_cost=64 * 1024 * 1024)

    def _read(self, sha: str) -> bytes | None:
        raise NotImplementedError

    def _remember(self, accepted: AcceptedImage) -> None:
        """An image this worker just accepted and stored is already decoded and
        hashed: its first analysis need not read it back."""
        self._decoded.put(accepted.sha256, accepted.image, accepted.width * accepted.height * 3)

    def get(self, sha: str) -> Image.Image | None:
        if not is_sha256(sha):
            return None
        cached = self._decoded.get(sha)
        if cached is not None:
            return cached
        data = self._read(sha)
        if data is None:
            return None
        try:
            image = decode_stored_png(data, self.limits)
        except IntakeError:
            log.error("stored image %s does not decode; ignoring it", sha)
            return None
        if image_sha256(image) != sha:
            log.error("stored image %s does not match its hash; ignoring it", sha)
            return None
        self._decoded.put(sha, image, image.width * image.height * 3)
        return image


class FileImageStore(_VerifyingImageStore):
    def __init__(self, root: Path, max_pixels: int) -> None:
        super().__init__(max_pixels)
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, sha: str) -> Path:
        return self.root / sha[:2] / f"{sha}.png"

    def has(self, sha: str) -> bool:
        return is_sha256(sha) and self._path(sha).is_file()

    def put(self, accepted: AcceptedImage) -> str:
        sha = accepted.sha256
        target = self._path(sha)
        if target.is_file():
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write to a temporary file in the same folder, flush it to disk, then
        # rename: a reader sees the whole image or none, even if this worker
        # dies mid-write.
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(accepted.png_bytes())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        self._remember(accepted)
        return sha

    def _read(self, sha: str) -> bytes | None:
        try:
            return self._path(sha).read_bytes()
        except FileNotFoundError:
            return None


class StoreUnavailable(IntakeError):
    """The image store cannot be reached right now (Redis down, timing out,
    refusing writes). Not the client's fault and worth retrying: HTTP 503.

    It is an ``IntakeError`` so the handlers that already turn those into a
    JSON error with ``status`` (the API) or an inline message (the pages)
    answer it as a 503 instead of an unexpected 500.
    """

    status = 503
    code = "store_unavailable"
    MESSAGE = "The image store is unavailable right now; please try again in a moment."

    def __init__(self, message: str = MESSAGE) -> None:
        super().__init__(message)


class RedisImageStore(_VerifyingImageStore):
    """Images in Redis, for several hosts behind one load balancer. No expiry:
    the store is durable, shared links must keep working.

    Images this process has decoded are still served while Redis is down
    (the verifying read cache answers first); anything that needs Redis
    then raises ``StoreUnavailable``.
    """

    def __init__(self, url: str, max_pixels: int) -> None:
        super().__init__(max_pixels)
        self.client = redis_client(url, 2.0)

    @staticmethod
    def _key(sha: str) -> str:
        return f"dashapp:image:{sha}"

    def _call(self, action: str, method: str, *args: Any, **kwargs: Any) -> Any:
        import redis

        try:
            return getattr(self.client, method)(*args, **kwargs)
        except redis.RedisError as exc:
            # The operator gets the cause; the client a plain, retryable 503.
            log.warning("image store %s failed: %s", action, exc)
            raise StoreUnavailable() from exc

    def has(self, sha: str) -> bool:
        return is_sha256(sha) and bool(self._call("lookup", "exists", self._key(sha)))

    def put(self, accepted: AcceptedImage) -> str:
        # SET is atomic: other clients see the whole value or nothing.
        self._call("write", "set", self._key(accepted.sha256), accepted.png_bytes(), nx=True)
        return accepted.sha256

    def _read(self, sha: str) -> bytes | None:
        value = self._call("read", "get", self._key(sha))
        return bytes(value) if value is not None else None


# ---------------------------------------------------------------- activation blobs


def to_half(array: np.ndarray) -> np.ndarray:
    """float32 -> float16, bit-identical to numpy's cast but about 7x faster
    (torch's conversion is vectorized); this runs on every layer of a fill."""
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).half().numpy()


def to_single(array: np.ndarray) -> np.ndarray:
    """float16 -> float32, likewise."""
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float16)).float().numpy()


def encode_maps(maps: np.ndarray) -> bytes:
    """(C, H, W) responses -> compact bytes in our own format (nothing from the
    cache is ever unpickled into arrays): float16 values of the non-zero
    positions plus a bitmask of where they are. Rectified maps are about half
    zeros, so this is as small as zlib and several times faster both ways."""
    half = (maps if maps.dtype == np.float16 else to_half(maps)).ravel()
    nonzero = half != 0
    values = half[nonzero]
    header = json.dumps({"shape": list(maps.shape), "nonzero": int(values.size)}).encode()
    return BLOB_MAGIC + struct.pack("<I", len(header)) + header + np.packbits(nonzero).tobytes() + values.tobytes()


def decode_maps(blob: bytes) -> np.ndarray:
    if not isinstance(blob, bytes) or not blob.startswith(BLOB_MAGIC):
        raise ValueError("not an activation blob")
    try:
        (header_len,) = struct.unpack_from("<I", blob, len(BLOB_MAGIC))
        start = len(BLOB_MAGIC) + 4
        header = json.loads(blob[start : start + header_len])
        shape = tuple(int(v) for v in header["shape"])
        count = int(header["nonzero"])
    except (struct.error, KeyError, TypeError) as exc:
        # A damaged entry is a cache miss (callers catch ValueError), never a 500.
        raise ValueError("activation blob header is damaged") from exc
    total = int(np.prod(shape))
    mask_bytes = (total + 7) // 8
    body = blob[start + header_len :]
    if total < 0 or count < 0 or len(body) != mask_bytes + 2 * count:
        raise ValueError("activation blob is truncated")
    mask = np.unpackbits(np.frombuffer(body[:mask_bytes], dtype=np.uint8), count=total).astype(bool)
    if int(mask.sum()) != count:
        raise ValueError("activation blob is inconsistent")
    array = np.zeros(total, dtype=np.float32)
    # A writable copy: torch refuses to wrap read-only buffers silently.
    array[mask] = to_single(np.frombuffer(bytearray(body[mask_bytes:]), dtype=np.float16))
    return array.reshape(shape)


META_COST = 4096  # nominal size of a prediction entry in the local LRU


def _decode_meta(blob: bytes) -> dict[str, Any]:
    meta = json.loads(zlib.decompress(blob))
    if not isinstance(meta, dict):
        raise ValueError("prediction entry is not an object")
    return meta


def _nbytes(maps: np.ndarray) -> int:
    return int(maps.nbytes)


class BoundedFileSystemCache(FileSystemCache):
    """FileSystemCache whose entry count is read from the directory itself.

    cachelib keeps the count in a file updated read-modify-write, which drifts
    when several workers write at once; counting the folder keeps the bound
    true under load (a few thousand entries list in about a millisecond).
    """

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
        return RedisCache(host=client, default_timeout=settings.cache_ttl_s, key_prefix="dashapp:act:")
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    return BoundedFileSystemCache(
        str(settings.cache_dir), threshold=settings.cache_max_entries, default_timeout=settings.cache_ttl_s
    )


class ActivationStore:
    """Layer responses and predictions keyed by (image, model, weights, layer).

    ``compute(sha, model)`` is called on a miss; it must return
    ``(responses: dict[layer, (C,H,W) array], meta: dict)`` from one forward
    pass, and every layer of that model is stored at once.
    """

    def __init__(
        self,
        backend: Any,
        compute: Callable[[str, str], tuple[dict[str, np.ndarray], dict[str, Any]]],
        weights_tag: Callable[[str], str],
        local_bytes: int = 96 * 1024 * 1024,
    ) -> None:
        self.backend = backend
        self.compute = compute
        self.weights_tag = weights_tag
        self._local = LruDict(max_cost=local_bytes)
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._backend_down_until = 0.0
        self.stats = {"hits": 0, "misses": 0, "computes": 0, "backend_errors": 0}
        self._stats_lock = threading.Lock()

    # -- keys

    def _key(self, sha: str, model: str, layer: str) -> str:
        return f"{KEY_VERSION}:{model}:{self.weights_tag(model)}:{sha}:{layer}"

    def _meta_key(self, sha: str, model: str) -> str:
        return self._key(sha, model, "__meta__")

    # -- backend calls that never raise

    def _backend_call(self, name: str, *args: Any) -> Any:
        if time.monotonic() < self._backend_down_until:
            return None
        try:
            return getattr(self.backend, name)(*args)
        except Exception as exc:  # any backend failure degrades to recomputing
            self._count("backend_errors")
            self._backend_down_until = time.monotonic() + BACKEND_RETRY_S
            log.warning("activation cache %s failed (%s); recomputing without it", name, exc)
            return None

    def _lock_for(self, sha: str, model: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault((sha, model), threading.Lock())

    # -- reads

    def _count(self, name: str) -> None:
        with self._stats_lock:
            self.stats[name] += 1

    def _cached(self, key: str, decode: Callable[[bytes], Any], cost: Callable[[Any], int]) -> Any | None:
        """This process's copy, else the shared backend's (decoded and kept here), else None."""
        local = self._local.get(key)
        if local is not None:
            return local
        blob = self._backend_call("get", key)
        if not isinstance(blob, bytes):
            return None
        try:
            value = decode(blob)
        except (ValueError, zlib.error):
            log.warning("discarding unreadable cache entry %s", key)
            return None
        self._local.put(key, value, cost(value))
        return value

    def meta(self, sha: str, model: str) -> dict[str, Any]:
        key = self._meta_key(sha, model)
        meta = self._cached(key, _decode_meta, lambda _: META_COST)
        if meta is None:
            self._fill(sha, model)
            meta = self._local.get(key) or {}
        return meta

    def layer(self, sha: str, model: str, layer: str) -> np.ndarray:
        maps = self._cached(self._key(sha, model, layer), decode_maps, _nbytes)
        if maps is not None:
            self._count("hits")
            return maps
        self._count("misses")
        return self._fill(sha, model)[layer]

    # -- fill

    def _fill(self, sha: str, model: str) -> dict[str, np.ndarray]:
        """One forward pass fills every layer of the model. Concurrent misses
        for the same (image, model) in this process wait for the first."""
        with self._lock_for(sha, model):
            meta_key = self._meta_key(sha, model)
            meta = self._local.get(meta_key)
            if meta is not None:  # filled by the request we waited for
                ready = {name: self._local.get(self._key(sha, model, name)) for name in meta["layers"]}
                if all(maps is not None for maps in ready.values()):
                    return ready  # type: ignore[return-value]
            responses, meta = self.compute(sha, model)
            meta = {**meta, "layers": list(responses)}
            self._count("computes")
            stored: dict[str, np.ndarray] = {}
            items: dict[str, bytes] = {}
            for name, maps in responses.items():
                key = self._key(sha, model, name)
                half = to_half(maps)
                items[key] = encode_maps(half)
                # Serve what the cache holds (float16-rounded), so every
                # worker and every request sees the same numbers.
                stored[name] = to_single(half)
                self._local.put(key, stored[name], stored[name].nbytes)
            # Layers first, meta last: a reader that finds the meta finds the layers.
            self._backend_call("set_many", items)
            self._backend_call("set", meta_key, zlib.compress(json.dumps(meta).encode()))
            self._local.put(meta_key, meta, META_COST)
            return stored

    def derived(self, sha: str, model: str, name: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """A map derived from (image, model), e.g. class evidence, stored like
        the layers (``name`` says what it is: layer, class, method)."""
        key = self._key(sha, model, name)
        maps = self._cached(key, decode_maps, _nbytes)
        if maps is not None:
            return maps
        with self._lock_for(sha, f"{model}/{name}"):
            local = self._local.get(key)
            if local is not None:
                return local
            blob = encode_maps(compute())
            self._backend_call("set", key, blob)
            maps = decode_maps(blob)
            self._local.put(key, maps, maps.nbytes)
            return maps

    def cached_bytes(self, sha: str, model: str, layers: list[str]) -> int:
        total = 0
        for name in [*layers, "__meta__"]:
            blob = self._backend_call("get", self._key(sha, model, name))
            if isinstance(blob, bytes):
                total += len(blob)
        return total
