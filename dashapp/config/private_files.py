"""The data directory and the secret key in it: this user's only.

The directory holds the secret key, which signs background-job handles, users'
images and, without Redis, Dash's pickled job store: 0700 and 0600 whatever
the umask, and a directory others may write to stops the start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
import time
from pathlib import Path
from typing import Protocol

from dashapp.config.errors import SettingsError

log = logging.getLogger(__name__)


class Settings(Protocol):
    """What of the settings (config/settings.py, which imports this module) is read here."""

    @property
    def data_dir(self) -> Path: ...

    @property
    def secret_key(self) -> str: ...


def ensure_data_dir(settings: Settings) -> Path:
    """Create the data directory readable by this user only (0700): it holds
    the secret key, which signs background-job handles, users' images and,
    without Redis, the pickled job store. One that others may write to stops
    the start (they could plant a pickle)."""
    path = ensure_private_dir(settings.data_dir)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o022:
        raise SettingsError(f"The data directory {path} can be written by other users (mode {mode:o}), who could "
                            "plant files the app reads: make it 0700 (chmod 700) or set DASHAPP_DATA_DIR elsewhere")
    return path


def ensure_private_dir(path: Path) -> Path:
    """Make ``path`` 0700 if missing; close it if it is ours and holds our key."""
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            pass  # another worker made it a moment ago
        else:
            os.chmod(path, 0o700)  # whatever the umask
    info = path.stat()
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        if info.st_uid == os.getuid() and (path / "secret_key").is_file():
            # Ours, from a version that left it open: close it.
            os.chmod(path, 0o700)
            log.info("folder %s was mode %o; now 0700", path, mode)
        else:
            # Perhaps a shared folder someone chose: not ours to change, so say so.
            log.warning("data directory %s is accessible to other users (mode %o); 0700 is advised", path, mode)
    return path


def secret_key_for(settings: Settings) -> str:
    """The Flask secret: the configured one, or one kept in the data directory.

    Every worker of one host reads the same file, so anything signed by one
    worker verifies in the others. The file is created with ``O_EXCL`` and mode
    0600: the first worker writes it, the others read it.
    """
    if settings.secret_key:
        return settings.secret_key
    ensure_data_dir(settings)
    path = settings.data_dir / "secret_key"
    candidate = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        return _read_secret(path)
    with os.fdopen(fd, "w") as out:
        out.write(candidate)
    return candidate


def _read_secret(path: Path) -> str:
    # A worker may read while the first one is still writing: wait for the key.
    for _ in range(200):
        value = path.read_text().strip()
        if value:
            if stat.S_IMODE(path.stat().st_mode) & 0o077:
                # A key file from an older version was world-readable.
                with contextlib.suppress(PermissionError):
                    os.chmod(path, 0o600)
            return value
        time.sleep(0.01)
    raise SettingsError(f"The secret key file {path} is empty: delete it or set DASHAPP_SECRET_KEY")
