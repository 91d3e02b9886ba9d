"""Durable named blobs (collection manifests, scan results, job records) in
the same backends as images: a folder under the data directory, or Redis.

Unlike the activation cache nothing here expires or is evicted: a scan
result must survive restarts like the images it was computed from. Keys
are short ASCII names of our own making (``scan:<collection>:<model>:...``),
never user input.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]+(:[A-Za-z0-9_.\-]+)*$")
REDIS_PREFIX = "dashapp:blob:"


def _check(key: str) -> str:
    if not KEY_PATTERN.match(key) or ".." in key:
        raise ValueError(f"not a blob key: {key!r}")
    return key


class BlobStore(Protocol):
    def get(self, key: str) -> bytes | None: ...
    def put(self, key: str, data: bytes) -> None: ...
    def delete(self, key: str) -> None: ...
    def keys(self, prefix: str) -> list[str]: ...


class FileBlobStore:
    """One file per key (``a:b:c`` -> ``root/a/b/c``), written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*_check(key).split(":"))

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def put(self, key: str, data: bytes) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Temporary file and rename: a reader sees the old blob or the new one, never half.
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

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
    """Blobs as plain Redis strings without expiry (SET is atomic)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def get(self, key: str) -> bytes | None:
        value = self.client.get(REDIS_PREFIX + _check(key))
        return bytes(value) if value is not None else None

    def put(self, key: str, data: bytes) -> None:
        self.client.set(REDIS_PREFIX + _check(key), data)

    def delete(self, key: str) -> None:
        self.client.delete(REDIS_PREFIX + _check(key))

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
        return RedisBlobStore(redis_client(settings.redis_url, 10.0))
    return FileBlobStore(settings.data_dir / "collections")
