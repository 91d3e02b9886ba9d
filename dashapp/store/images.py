"""The durable image store: content-addressed by the SHA-256 of the normalized
pixels, written atomically (a partial image is never visible), on disk by
default or in Redis, and verified on every read."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from ..errors import UserError
from ..intake import AcceptedImage, IntakeError, Limits, decode_stored_png, image_sha256, is_sha256
from .backends import redis_client
from .memo import LruDict

log = logging.getLogger(__name__)


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

class StoreUnavailable(UserError):
    """The image store cannot be reached right now (Redis down, timing out,
    refusing writes). Not the client's fault and worth retrying: HTTP 503.

    A ``UserError``: the API answers it as a 503 and pages show its message.
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


