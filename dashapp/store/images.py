"""The durable image store: content-addressed by the SHA-256 of the normalized
pixels, written atomically (a partial image is never visible), on disk by
default or in Redis, and verified on every read.

Each image is kept as the smaller of its validated original bytes and the
normalized PNG. The store is bounded (``DASHAPP_IMAGE_STORE_MAX_BYTES``): when
a new image would pass the bound, the least recently used images go first;
pinned ones (the bundled examples) are never evicted."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from ..errors import UserError
from ..i18n import N_, _
from ..intake import AcceptedImage, IntakeError, Limits, decode_stored, image_sha256, is_sha256
from .backends import redis_client
from .memo import LruDict

log = logging.getLogger(__name__)


DEFAULT_MAX_BYTES = 1 << 30
TOUCH_EVERY_S = 60.0  # a use refreshes an image's recency at most this often


class ImageStore(Protocol):
    def put(self, accepted: AcceptedImage) -> str: ...
    def get(self, sha: str) -> Image.Image | None: ...
    def has(self, sha: str) -> bool: ...
    def pin(self, sha: str) -> None: ...
    def stored_bytes(self, sha: str) -> bytes | None: ...


class _VerifyingImageStore:
    """Shared read path: decode, verify the hash, keep a few decoded images;
    recency of use for the bound."""

    def __init__(self, max_pixels: int, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.limits = Limits(max_pixels=max_pixels)
        self.max_bytes = max_bytes
        self.pinned: set[str] = set()
        self._decoded = LruDict(max_cost=64 * 1024 * 1024)
        self._touched: dict[str, float] = {}

    def pin(self, sha: str) -> None:
        """Never evict ``sha`` (every worker pins the bundled examples)."""
        self.pinned.add(sha)

    def _read(self, sha: str) -> bytes | None:
        raise NotImplementedError

    def stored_bytes(self, sha: str) -> bytes | None:
        """``sha``'s bytes as stored, not decoded (so not verified): for what
        only displays a part of it, decoded reduced (the crops)."""
        data = self._read(sha) if is_sha256(sha) else None
        if data is not None:
            self._used(sha)
        return data

    def _touch(self, sha: str) -> None:
        """Record a use of ``sha`` for least-recently-used eviction."""

    def _used(self, sha: str) -> None:
        now = time.monotonic()
        if now - self._touched.get(sha, -TOUCH_EVERY_S) >= TOUCH_EVERY_S:
            if len(self._touched) > 10_000:
                self._touched.clear()
            self._touched[sha] = now
            self._touch(sha)

    def _remember(self, accepted: AcceptedImage) -> None:
        """An image this worker just accepted and stored is already decoded and
        hashed: its first analysis need not read it back."""
        self._decoded.put(accepted.sha256, accepted.image, accepted.width * accepted.height * 3)

    def get(self, sha: str) -> Image.Image | None:
        if not is_sha256(sha):
            return None
        cached = self._decoded.get(sha)
        if cached is not None:
            self._used(sha)
            return cached
        data = self._read(sha)
        if data is None:
            return None
        self._used(sha)
        try:
            image = decode_stored(data, self.limits)
        except IntakeError:
            log.error("stored image %s does not decode; ignoring it", sha)
            return None
        if image_sha256(image) != sha:
            log.error("stored image %s does not match its hash; ignoring it", sha)
            return None
        self._decoded.put(sha, image, image.width * image.height * 3)
        return image


class FileImageStore(_VerifyingImageStore):
    SUFFIX = ".img"  # original bytes or PNG; ".png" files are from older versions

    def __init__(self, root: Path, max_pixels: int, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        super().__init__(max_pixels, max_bytes)
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, sha: str) -> Path:
        return self.root / sha[:2] / f"{sha}{self.SUFFIX}"

    def _existing(self, sha: str) -> Path | None:
        for path in (self._path(sha), self._path(sha).with_suffix(".png")):
            if path.is_file():
                return path
        return None

    def has(self, sha: str) -> bool:
        return is_sha256(sha) and self._existing(sha) is not None

    def put(self, accepted: AcceptedImage) -> str:
        sha = accepted.sha256
        if self._existing(sha) is not None:
            self._used(sha)
            return sha
        target = self._path(sha)
        data = accepted.stored_bytes()
        self._make_room(len(data))
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write to a temporary file in the same folder, flush it to disk, then
        # rename: a reader sees the whole image or none, even if this worker
        # dies mid-write.
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        self._remember(accepted)
        return sha

    def _touch(self, sha: str) -> None:
        path = self._existing(sha)
        if path is not None:
            with contextlib.suppress(OSError):
                os.utime(path)  # the modification time is the recency

    def _make_room(self, incoming: int) -> None:
        """Evict least recently used images until ``incoming`` more bytes fit."""
        entries = []
        for path in self.root.glob("??/*"):
            if path.suffix not in (self.SUFFIX, ".png"):
                continue  # in-flight temporary files
            try:
                info = path.stat()
            except FileNotFoundError:
                continue  # evicted by another worker meanwhile
            entries.append((info.st_mtime, info.st_size, path))
        total = sum(size for _mtime, size, _path in entries)
        for _mtime, size, path in sorted(entries):
            if total + incoming <= self.max_bytes:
                break
            if path.stem in self.pinned:
                continue
            path.unlink(missing_ok=True)
            self._decoded.discard(path.stem)
            total -= size
            log.info("image store bound: evicted %s (%d bytes)", path.stem, size)

    def _read(self, sha: str) -> bytes | None:
        path = self._existing(sha)
        try:
            return path.read_bytes() if path is not None else None
        except FileNotFoundError:
            return None

class StoreUnavailable(UserError):
    """The image store cannot be reached right now (Redis down, timing out,
    refusing writes). Not the client's fault and worth retrying: HTTP 503.

    A ``UserError``: the API answers it as a 503 and pages show its message.
    """

    status = 503
    code = "store_unavailable"
    MESSAGE = N_("The image store is unavailable right now; please try again in a moment.")

    def __init__(self, message: str | None = None) -> None:
        # Worded when raised: in the language of the request that met the outage.
        super().__init__(message or _(self.MESSAGE))

class RedisImageStore(_VerifyingImageStore):
    """Images in Redis, for several hosts behind one load balancer. No expiry:
    the store is durable, shared links must keep working.

    Images this process has decoded are still served while Redis is down
    (the verifying read cache answers first); anything that needs Redis
    then raises ``StoreUnavailable``.
    """

    RECENCY = "dashapp:image-recency"  # sorted set: sha -> last use (unpinned images only)
    TOTAL = "dashapp:image-bytes"  # bytes held by the unpinned images

    def __init__(self, url: str, max_pixels: int, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        super().__init__(max_pixels, max_bytes)
        self.client = redis_client(url, 2.0)

    @staticmethod
    def _key(sha: str) -> str:
        return f"dashapp:image:{sha}"

    def _touch(self, sha: str) -> None:
        # XX: only images already counted; pinned ones never enter the set.
        self._call("touch", "zadd", self.RECENCY, {sha: time.time()}, xx=True)

    def _make_room(self, keep: str) -> None:
        """Evict least recently used images while the total passes the bound."""
        while int(self._call("bound", "get", self.TOTAL) or 0) > self.max_bytes:
            oldest = self._call("bound", "zrange", self.RECENCY, 0, 1)
            victims = [v.decode() for v in oldest if v.decode() != keep and v.decode() not in self.pinned]
            if not victims:
                return
            victim = victims[0]
            size = int(self._call("bound", "strlen", self._key(victim)) or 0)
            pipe = self.client.pipeline(transaction=True)
            pipe.delete(self._key(victim)).zrem(self.RECENCY, victim).decrby(self.TOTAL, size)
            self._run(pipe)
            self._decoded.discard(victim)
            log.info("image store bound: evicted %s (%d bytes)", victim, size)

    def _run(self, pipe: Any) -> Any:
        import redis

        try:
            return pipe.execute()
        except redis.RedisError as exc:
            log.warning("image store eviction failed: %s", exc)
            raise StoreUnavailable() from exc

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
        sha = accepted.sha256
        data = accepted.stored_bytes()
        # SET is atomic: other clients see the whole value or nothing.
        if not self._call("write", "set", self._key(sha), data, nx=True):
            self._used(sha)
            return sha
        if sha not in self.pinned:
            pipe = self.client.pipeline(transaction=True)
            pipe.zadd(self.RECENCY, {sha: time.time()}).incrby(self.TOTAL, len(data))
            self._run(pipe)
            self._make_room(keep=sha)
        return sha

    def _read(self, sha: str) -> bytes | None:
        value = self._call("read", "get", self._key(sha))
        return bytes(value) if value is not None else None


