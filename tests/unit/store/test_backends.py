"""The bounded folder backend keeps its entry bound, one entry or a batch at a time."""

from __future__ import annotations

from pathlib import Path

from dashapp.store import (
    BoundedFileSystemCache,
)


def test_cache_entry_bound_holds(tmp_path: Path) -> None:
    backend = BoundedFileSystemCache(str(tmp_path / "c"), threshold=10, default_timeout=60)
    for i in range(40):
        backend.set(f"k{i}", b"x" * 10)
    entries = [p for p in (tmp_path / "c").iterdir() if not p.name.endswith(".__wz_cache")]
    assert len(entries) <= 11


def test_cache_bound_holds_for_batches(tmp_path: Path) -> None:
    backend = BoundedFileSystemCache(str(tmp_path / "c"), threshold=30, default_timeout=60)
    for batch in range(6):
        backend.set_many({f"b{batch}-{i}": b"x" for i in range(21)})
        entries = [p for p in (tmp_path / "c").iterdir() if not p.name.endswith(".__wz_cache")]
        assert len(entries) <= 30
    assert backend.get("b5-20") == b"x"  # the newest batch is whole

