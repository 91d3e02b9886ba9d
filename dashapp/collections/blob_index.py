"""The file blob store's bookkeeping: each blob's allocated bytes, grouped by
the collection (or job) its key names, each group's last use, and the groups
evicted, in a SQLite file beside the store's folder.

A key's group is its second part (``scan:<collection>:...`` ->
``<collection>``), so a collection's manifest, its scans, shards, progress
and job records go together. Past the bound
(``DASHAPP_COLLECTION_STORE_MAX_BYTES``) the least recently used groups are
evicted whole and remembered as evicted, so asking for one says so. A group
can be charged bytes kept elsewhere (a collection's images, held in the
image store), so the bound covers them too.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..store.sqlite import SharedDb, add_meta, allocated, meta

SCHEMA = """
CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, grp TEXT NOT NULL, size INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS blobs_grp ON blobs (grp);
CREATE TABLE IF NOT EXISTS groups (grp TEXT PRIMARY KEY, size INTEGER NOT NULL DEFAULT 0,
                                   extra INTEGER NOT NULL DEFAULT 0, used REAL NOT NULL);
CREATE INDEX IF NOT EXISTS groups_lru ON groups (used);
CREATE TABLE IF NOT EXISTS evicted (grp TEXT PRIMARY KEY, at REAL NOT NULL);
"""
TOTAL = "total_bytes"
KEEP_EVICTED = 100_000  # evicted groups remembered (so they say so); older ones are forgotten


def group_of(key: str) -> str:
    parts = key.split(":")
    return parts[1] if len(parts) > 1 else parts[0]


class BlobIndex:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.db = SharedDb(root.with_name(root.name + ".index.sqlite"), SCHEMA, self._rebuild)

    def _rebuild(self, conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM blobs")
        conn.execute("DELETE FROM groups")
        if self.root.is_dir():
            for path in self.root.rglob("*"):
                if path.name.startswith(".incoming-") or not path.is_file():
                    continue
                key = ":".join(path.relative_to(self.root).parts)
                try:
                    size, used = allocated(path), path.stat().st_mtime
                except FileNotFoundError:
                    continue
                conn.execute("INSERT OR REPLACE INTO blobs VALUES (?, ?, ?)", (key, group_of(key), size))
                conn.execute("INSERT INTO groups (grp, size, used) VALUES (?, ?, ?) ON CONFLICT(grp) DO UPDATE "
                             "SET size = size + excluded.size, used = MAX(used, excluded.used)",
                             (group_of(key), size, used))
        total = conn.execute("SELECT COALESCE(SUM(size + extra), 0) FROM groups").fetchone()[0]
        conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (TOTAL, total))

    def total(self) -> int:
        return int(meta(self.db.conn(), TOTAL))

    def _grow(self, conn: sqlite3.Connection, group: str, size: int, extra: int, now: float) -> None:
        conn.execute("INSERT INTO groups (grp, size, extra, used) VALUES (?, ?, ?, ?) ON CONFLICT(grp) DO UPDATE "
                     "SET size = size + excluded.size, extra = extra + excluded.extra, used = excluded.used",
                     (group, size, extra, now))
        add_meta(conn, TOTAL, size + extra)

    def wrote(self, key: str, size: int, now: float, max_bytes: int | None) -> dict[str, list[str]]:
        """Record ``key`` at ``size`` bytes; the groups to evict (with their keys) so the rest fit."""
        group = group_of(key)
        with self.db.write() as conn:
            row = conn.execute("SELECT size FROM blobs WHERE key = ?", (key,)).fetchone()
            conn.execute("INSERT OR REPLACE INTO blobs VALUES (?, ?, ?)", (key, group, size))
            conn.execute("DELETE FROM evicted WHERE grp = ?", (group,))
            self._grow(conn, group, size - (row[0] if row else 0), 0, now)
            return self._evict(conn, max_bytes, keep=group, now=now)

    def charge(self, group: str, extra: int, now: float, max_bytes: int | None) -> dict[str, list[str]]:
        """Charge ``group`` ``extra`` bytes kept elsewhere (replacing its earlier charge)."""
        with self.db.write() as conn:
            row = conn.execute("SELECT extra FROM groups WHERE grp = ?", (group,)).fetchone()
            self._grow(conn, group, 0, extra - (row[0] if row else 0), now)
            return self._evict(conn, max_bytes, keep=group, now=now)

    def _evict(self, conn: sqlite3.Connection, max_bytes: int | None, keep: str,
               now: float) -> dict[str, list[str]]:
        victims: dict[str, list[str]] = {}
        if max_bytes is None:
            return victims
        while meta(conn, TOTAL) > max_bytes:
            row = conn.execute("SELECT grp, size + extra FROM groups WHERE grp != ? ORDER BY used LIMIT 1",
                               (keep,)).fetchone()
            if row is None:
                break
            group, size = row
            victims[group] = [key for (key,) in conn.execute("SELECT key FROM blobs WHERE grp = ?", (group,))]
            conn.execute("DELETE FROM blobs WHERE grp = ?", (group,))
            conn.execute("DELETE FROM groups WHERE grp = ?", (group,))
            conn.execute("INSERT OR REPLACE INTO evicted VALUES (?, ?)", (group, now))
            add_meta(conn, TOTAL, -size)
        if victims:
            conn.execute("DELETE FROM evicted WHERE at < (SELECT at FROM evicted ORDER BY at DESC LIMIT 1 "
                         "OFFSET ?)", (KEEP_EVICTED,))
        return victims

    def used(self, key: str, now: float) -> None:
        with self.db.write() as conn:
            conn.execute("UPDATE groups SET used = ? WHERE grp = ?", (now, group_of(key)))

    def removed(self, key: str) -> None:
        with self.db.write() as conn:
            row = conn.execute("SELECT grp, size FROM blobs WHERE key = ?", (key,)).fetchone()
            if row is not None:
                conn.execute("DELETE FROM blobs WHERE key = ?", (key,))
                conn.execute("UPDATE groups SET size = size - ? WHERE grp = ?", (row[1], row[0]))
                add_meta(conn, TOTAL, -row[1])

    def evicted_at(self, group: str) -> float | None:
        row = self.db.conn().execute("SELECT at FROM evicted WHERE grp = ?", (group,)).fetchone()
        return float(row[0]) if row else None
