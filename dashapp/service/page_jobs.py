"""Page jobs (a page's background computation, Dash's background callback):
the host's slots, and a cancel that knows exactly what the job left.

A cancel from the page asks the job to stop through the shared store (a stop
marker, which the job reads between steps). The job removes the marker once
it has stopped, after anything it stored, so the page then counts exactly
what the job left. A job that had already ended, or whose process Dash's own
cancel killed, frees its slot instead (the OS drops a dead process's lock).
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import UserError
from ..i18n import _
from ..store import ActivationStore

SLOTS = 1  # page jobs at once per host: one optimizes, the run slot would make any other wait anyway
POLL_S = 0.1  # how often a cancel looks again whether the job stopped
READ_EVERY_S = 0.3  # how often a job reads its stop marker
JOB_ID = re.compile(r"[0-9a-f]{16}")


def new_job_id() -> str:
    """A page job's name: unguessable, so only the page that started it can stop it."""
    return secrets.token_hex(8)


class StopFlag:
    """Set when the page asked job ``job`` to stop (read from the shared store
    at most every READ_EVERY_S); the ``cancel`` a computation polls."""

    def __init__(self, store: ActivationStore, job: str) -> None:
        self.store, self.key, self.read_at, self.set = store, f"page-job:{job}:stop", 0.0, False

    def is_set(self) -> bool:
        if not self.set and time.monotonic() - self.read_at >= READ_EVERY_S:
            self.read_at = time.monotonic()
            self.set = self.store.get_blob(self.key) is not None
        return self.set

    def acknowledge(self) -> None:
        """The job has stopped and stores nothing more."""
        self.store.delete_blob(self.key)


class PageJobs:
    def __init__(self, lock_dir: Path, store: ActivationStore) -> None:
        self.lock_dir, self.store = lock_dir, store

    def _slot_path(self, slot: int) -> str:
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        return str(self.lock_dir / f"page-job-{slot}.lock")

    @contextmanager
    def slot(self) -> Iterator[int]:
        """One of the host's slots for the caller's job (its number), or a 429
        UserError at once when all are taken."""
        for slot in range(SLOTS):
            fd = os.open(self._slot_path(slot), os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield slot
            finally:
                os.close(fd)
            return
        raise UserError(_("The server is busy with other feature visualizations; please try again in a minute."),
                        429)

    def _slot_free(self, slot: int) -> bool:
        fd = os.open(self._slot_path(slot), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        finally:
            os.close(fd)

    def stop_flag(self, job: str) -> StopFlag:
        return StopFlag(self.store, job)

    def stop(self, job: str, slot: int, timeout_s: float) -> bool:
        """Ask job ``job`` (running on this host's ``slot``) to stop, and wait
        until it has (it acknowledged, or its slot is free); True if it did
        within ``timeout_s``. What it stored is then final."""
        if not JOB_ID.fullmatch(job) or not 0 <= slot < SLOTS:
            return False
        flag = self.stop_flag(job)
        self.store.put_blob(flag.key, b"1")
        deadline = time.monotonic() + timeout_s
        try:
            while self.store.get_blob(flag.key) is not None and not self._slot_free(slot):
                if time.monotonic() > deadline:
                    return False
                time.sleep(POLL_S)
            return True
        finally:
            flag.acknowledge()
