"""The file image store's bookkeeping: each image's allocated bytes, its last
use, and who holds it (a collection, or the examples), in a SQLite file next
to the store's folder. A write costs a few indexed rows, whatever the number
of images (storing each image used to list and stat the whole folder).

Only images nobody holds count against the store's bound and can be
evicted: a collection's images are charged to the collection store's bound
instead, and go back to the images' least-recently-used order when the
collection is evicted. A missing index file is rebuilt from the folder; an
indexed image whose file went away is forgotten when a read misses it; a
file added behind the index's back is indexed when it is stored again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from .sqlite import SharedDb, add_meta, allocated, meta

SCHEMA = """
CREATE TABLE IF NOT EXISTS images (sha TEXT PRIMARY KEY, size INTEGER NOT NULL, used REAL NOT NULL,
                                   holds INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS images_lru ON images (holds, used);
CREATE TABLE IF NOT EXISTS holders (owner TEXT NOT NULL, sha TEXT NOT NULL, PRIMARY KEY (owner, sha));
CREATE INDEX IF NOT EXISTS holders_sha ON holders (sha);
"""
FREE = "free_bytes"  # allocated bytes of the images nobody holds: what the bound counts
SUFFIXES = (".img", ".png")


class ImageIndex:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.db = SharedDb(root.with_name(root.name + ".index.sqlite"), SCHEMA, self._rebuild)

    def _rebuild(self, conn: sqlite3.Connection) -> None:
        """Index the folder's images (their modification time as their last use)."""
        conn.execute("DELETE FROM images")
        for path in self.root.glob("??/*"):
            if path.suffix in SUFFIXES:
                try:
                    size, used = allocated(path), path.stat().st_mtime
                except FileNotFoundError:
                    continue
                conn.execute("INSERT OR IGNORE INTO images (sha, size, used) VALUES (?, ?, ?)", (path.stem, size, used))
        conn.execute("UPDATE images SET holds = (SELECT COUNT(*) FROM holders WHERE holders.sha = images.sha)")
        free = conn.execute("SELECT COALESCE(SUM(size), 0) FROM images WHERE holds = 0").fetchone()[0]
        conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (FREE, free))

    def free_bytes(self) -> int:
        return int(meta(self.db.conn(), FREE))

    def size_of(self, shas: Iterable[str]) -> int:
        conn = self.db.conn()
        return sum(int(row[0]) for sha in set(shas)
                   for row in conn.execute("SELECT size FROM images WHERE sha = ?", (sha,)))

    def stored(self, sha: str, size: int, now: float, max_bytes: int) -> list[str]:
        """Record ``sha`` (``size`` allocated bytes) as used now; then the
        least recently used unheld images to evict so the rest fit under
        ``max_bytes`` (never ``sha`` itself). Their rows are gone already."""
        with self.db.write() as conn:
            inserted = conn.execute("INSERT OR IGNORE INTO images (sha, size, used, holds) VALUES "
                                    "(?, ?, ?, (SELECT COUNT(*) FROM holders WHERE sha = ?))",
                                    (sha, size, now, sha)).rowcount
            if not inserted:
                conn.execute("UPDATE images SET used = ? WHERE sha = ?", (now, sha))
                return []
            if conn.execute("SELECT holds FROM images WHERE sha = ?", (sha,)).fetchone()[0] == 0:
                add_meta(conn, FREE, size)
            return self._evict(conn, max_bytes, keep=sha)

    def _evict(self, conn: sqlite3.Connection, max_bytes: int, keep: str) -> list[str]:
        victims: list[str] = []
        free = meta(conn, FREE)
        while free > max_bytes:
            rows = conn.execute("SELECT sha, size FROM images WHERE holds = 0 AND sha != ? ORDER BY used LIMIT 64",
                                (keep,)).fetchall()
            if not rows:
                break
            for sha, size in rows:
                if free <= max_bytes:
                    break
                conn.execute("DELETE FROM images WHERE sha = ?", (sha,))
                free -= size
                victims.append(sha)
        conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (FREE, free))
        return victims

    def used(self, sha: str, now: float) -> None:
        with self.db.write() as conn:
            conn.execute("UPDATE images SET used = ? WHERE sha = ?", (now, sha))

    def forget(self, sha: str) -> None:
        """``sha``'s file is gone (removed behind the index's back)."""
        if self.db.conn().execute("SELECT 1 FROM images WHERE sha = ?", (sha,)).fetchone() is None:
            return  # never indexed (a request for an unknown image): no write
        with self.db.write() as conn:
            row = conn.execute("SELECT size, holds FROM images WHERE sha = ?", (sha,)).fetchone()
            if row is not None:
                conn.execute("DELETE FROM images WHERE sha = ?", (sha,))
                if row[1] == 0:
                    add_meta(conn, FREE, -row[0])

    def hold(self, owner: str, shas: Iterable[str]) -> None:
        """``owner`` holds ``shas``: none of them is evicted until it lets go."""
        with self.db.write() as conn:
            for sha in set(shas):
                if conn.execute("INSERT OR IGNORE INTO holders VALUES (?, ?)", (owner, sha)).rowcount:
                    row = conn.execute("SELECT size, holds FROM images WHERE sha = ?", (sha,)).fetchone()
                    if row is not None:
                        conn.execute("UPDATE images SET holds = holds + 1 WHERE sha = ?", (sha,))
                        if row[1] == 0:
                            add_meta(conn, FREE, -row[0])

    def release(self, owner: str, now: float) -> None:
        """``owner`` lets go of its images; those nobody else holds count
        against the bound again, as used ``now``."""
        with self.db.write() as conn:
            shas = [row[0] for row in conn.execute("SELECT sha FROM holders WHERE owner = ?", (owner,))]
            conn.execute("DELETE FROM holders WHERE owner = ?", (owner,))
            for sha in shas:
                row = conn.execute("SELECT size, holds FROM images WHERE sha = ?", (sha,)).fetchone()
                if row is None:
                    continue
                conn.execute("UPDATE images SET holds = MAX(holds - 1, 0), used = ? WHERE sha = ?", (now, sha))
                if row[1] == 1:
                    add_meta(conn, FREE, row[0])

    def holders(self, prefix: str) -> list[str]:
        """The holders whose name starts with ``prefix`` (an index range, not a scan)."""
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        rows = self.db.conn().execute("SELECT DISTINCT owner FROM holders WHERE owner >= ? AND owner < ?",
                                      (prefix, upper))
        return [row[0] for row in rows]

    def held(self, sha: str) -> bool:
        return self.db.conn().execute("SELECT 1 FROM holders WHERE sha = ? LIMIT 1", (sha,)).fetchone() is not None
