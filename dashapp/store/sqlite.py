"""A small SQLite file shared by every worker process and thread: the
bookkeeping of a bounded store (sizes, recency, holders), so a write costs a
few indexed rows instead of a scan of the store's folder.

WAL journal and a long busy timeout: several gunicorn workers and Celery
processes write at once; a writer takes the lock up front (``BEGIN
IMMEDIATE``) so two read-then-write transactions never deadlock. A file that
is missing (first start, or deleted by an operator) is rebuilt by the
caller's ``rebuild`` from the store's own files, once, whoever gets there
first.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

BUSY_TIMEOUT_S = 30.0


def allocated(path: Path | str) -> int:
    """Bytes ``path`` really takes on disk: its allocated blocks, not its
    length (a 300-byte file takes a whole 4 KiB block)."""
    info = os.stat(path)
    blocks = getattr(info, "st_blocks", None)  # absent on Windows: the length is all there is
    return int(blocks) * 512 if blocks is not None else info.st_size


class SharedDb:
    """One connection per process and thread; ``rebuild(conn)`` fills a new file."""

    def __init__(self, path: Path, schema: str, rebuild: Callable[[sqlite3.Connection], None]) -> None:
        self.path = path
        self.schema = schema + "\nCREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value REAL NOT NULL);"
        self._rebuild = rebuild
        self._local = threading.local()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        with contextlib.suppress(OSError):
            os.chmod(self.path, 0o600)
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in self.schema.split(";"):
                if statement.strip():
                    conn.execute(statement)
            if conn.execute("SELECT 1 FROM meta WHERE name = 'built'").fetchone() is None:
                self._rebuild(conn)
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('built', 1)")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            conn.close()
            raise
        return conn

    def conn(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid() or not self.path.exists():
            local.conn = self._connect()  # a forked child never shares its parent's connection
            local.pid = os.getpid()
        conn: sqlite3.Connection = local.conn
        return conn

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A transaction holding the write lock from its start."""
        conn = self.conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def meta(conn: sqlite3.Connection, name: str) -> float:
    row = conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
    return float(row[0]) if row else 0.0


def add_meta(conn: sqlite3.Connection, name: str, delta: float) -> None:
    conn.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                 (name, delta))
