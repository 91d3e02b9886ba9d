"""The durable image store: content-addressed by the SHA-256 of the normalized
pixels, written atomically (a partial image is never visible), on disk by
default or in Redis, and verified on every read.

Each image is kept as the smaller of its validated original bytes and the
normalized PNG. The store is bounded (``DASHAPP_IMAGE_STORE_MAX_BYTES``), by
what its images really take (allocated blocks on disk, ``MEMORY USAGE`` in
Redis): when a new image passes the bound, the least recently used images go
first. Held images are never evicted: those of a live collection (charged to
the collection store's bound instead) and the pinned bundled examples."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Protocol

from PIL import Image

from ..errors import UserError
from ..i18n import N_, _
from ..intake import AcceptedImage, IntakeError, Limits, decode_stored, image_sha256, is_sha256
from .image_index import ImageIndex
from .memo import LruDict
from .sqlite import allocated

log = logging.getLogger(__name__)


DEFAULT_MAX_BYTES = 1 << 30
TOUCH_EVERY_S = 60.0  # a use refreshes an image's recency at most this often
PINNED = "pinned"  # the holder of the images every worker pins (the bundled examples)
BUILDING = "building:"  # holders of a collection being built: building:<epoch s>:<uuid>
BUILD_HOLD_S = 3600.0  # a build's hold older than this was left by a process that died: let go
SWEEP_EVERY_S = 600.0


def building_owner() -> str:
    """A new build's holder name (its start time in it, so a stale one is known)."""
    return f"{BUILDING}{int(time.time())}:{uuid.uuid4().hex}"


def stale_build(owner: str, now: float) -> bool:
    parts = owner.split(":")
    return len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < now - BUILD_HOLD_S


class ImageStore(Protocol):
    def put(self, accepted: AcceptedImage) -> str: ...
    def get(self, sha: str) -> Image.Image | None: ...
    def has(self, sha: str) -> bool: ...
    def pin(self, sha: str) -> None: ...
    def stored_bytes(self, sha: str) -> bytes | None: ...
    def hold(self, owner: str, shas: list[str]) -> None: ...
    def release(self, owner: str) -> None: ...
    def size_of(self, shas: list[str]) -> int: ...


class _VerifyingImageStore:
    """Shared read path: decode, verify the hash, keep a few decoded images;
    recency of use for the bound."""

    def __init__(self, max_pixels: int, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.limits = Limits(max_pixels=max_pixels)
        self.max_bytes = max_bytes
        self.pinned: set[str] = set()
        self._decoded = LruDict(max_cost=64 * 1024 * 1024)
        self._touched: dict[str, float] = {}
        self._swept = -SWEEP_EVERY_S

    def release(self, owner: str) -> None:
        raise NotImplementedError

    def _holders(self, prefix: str) -> list[str]:
        raise NotImplementedError

    def _sweep(self) -> None:
        """Let go of builds' holds left by processes that died mid-build (a
        worker killed during a large upload), at most every SWEEP_EVERY_S."""
        now = time.monotonic()
        if now - self._swept < SWEEP_EVERY_S:
            return
        self._swept = now
        for owner in self._holders(BUILDING):
            if stale_build(owner, time.time()):
                log.warning("image store: letting go of %s, a build that never finished", owner)
                self.release(owner)

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
    """Images as files under ``root``; their sizes, recency and holders in
    an index beside it (``ImageIndex``: O(1) per write, not a folder scan)."""

    SUFFIX = ".img"  # original bytes or PNG; ".png" files are from older versions

    def __init__(self, root: Path, max_pixels: int, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        super().__init__(max_pixels, max_bytes)
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.index = ImageIndex(root)

    def _path(self, sha: str) -> Path:
        return self.root / sha[:2] / f"{sha}{self.SUFFIX}"

    def _existing(self, sha: str) -> Path | None:
        for path in (self._path(sha), self._path(sha).with_suffix(".png")):
            if path.is_file():
                return path
        return None

    def has(self, sha: str) -> bool:
        return is_sha256(sha) and self._existing(sha) is not None

    def pin(self, sha: str) -> None:
        super().pin(sha)
        self.index.hold(PINNED, [sha])

    def hold(self, owner: str, shas: list[str]) -> None:
        self.index.hold(owner, shas)

    def release(self, owner: str) -> None:
        self.index.release(owner, time.time())

    def size_of(self, shas: list[str]) -> int:
        return self.index.size_of(shas)

    def _holders(self, prefix: str) -> list[str]:
        return self.index.holders(prefix)

    def put(self, accepted: AcceptedImage) -> str:
        self._sweep()
        sha = accepted.sha256
        existing = self._existing(sha)
        if existing is not None:
            with contextlib.suppress(FileNotFoundError):  # indexed again if it was added behind the index's back
                self._evict(self.index.stored(sha, allocated(existing), time.time(), self.max_bytes))
            return sha
        target = self._path(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write to a temporary file in the same folder, flush it to disk, then
        # rename: a reader sees the whole image or none, even if this worker
        # dies mid-write.
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(accepted.stored_bytes())
                handle.flush()
                os.fsync(handle.fileno())
            size = allocated(tmp)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        self._remember(accepted)
        self._evict(self.index.stored(sha, size, time.time(), self.max_bytes))
        return sha

    def _touch(self, sha: str) -> None:
        self.index.used(sha, time.time())

    def _evict(self, victims: list[str]) -> None:
        """Remove the files of the images the index evicted (their rows are gone)."""
        for sha in victims:
            for path in (self._path(sha), self._path(sha).with_suffix(".png")):
                path.unlink(missing_ok=True)
            self._decoded.discard(sha)
            log.info("image store bound: evicted %s", sha)

    def _read(self, sha: str) -> bytes | None:
        path = self._existing(sha)
        try:
            if path is not None:
                return path.read_bytes()
        except FileNotFoundError:
            pass
        self.index.forget(sha)  # a file removed behind the index's back
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
