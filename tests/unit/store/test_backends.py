"""dashapp/store/backends.py: the bounded folder backend keeps its entry bound,
one entry or a batch at a time; the cache stores and returns raw bytes, and
what its folder holds is never unpickled (issue 11, finding 6)."""

from __future__ import annotations

import os
import pickle
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from flask_caching.backends import FileSystemCache

from dashapp.analysis.models.registry import ModelRegistry
from dashapp.config.settings import Settings
from dashapp.service import Analyzer
from dashapp.state.schema import ViewState
from dashapp.store import BoundedFileSystemCache
from tests.support.hostile import Planted


def plant_everywhere(cache_dir: Path, marker: Path) -> int:
    """Replace every entry in the cache folder by a pickle, in the format
    Flask-Caching's own FileSystemCache writes (expiry, then the pickle)."""
    payload = pickle.dumps(Planted(marker))
    planted = 0
    for entry in cache_dir.iterdir():
        if entry.is_file():
            entry.write_bytes(struct.pack("I", 0) + payload)
            planted += 1
    return planted


def test_bytes_round_trip_and_nothing_else_is_stored(tmp_path: Path) -> None:
    cache = BoundedFileSystemCache(str(tmp_path / "c"), threshold=10, default_timeout=60)
    cache.set("k", b"\x00raw bytes\xff")
    assert cache.get("k") == b"\x00raw bytes\xff"
    with pytest.raises(TypeError):
        cache.set("d", {"a": 1})  # a dict would need pickle: refused


def test_a_pickle_planted_in_the_cache_folder_is_never_run(tmp_path: Path, registry: ModelRegistry,
                                                            example_bytes: bytes,
                                                            make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    first = Analyzer(settings, registry=registry)
    sha = first.library.ingest_bytes(example_bytes).sha256
    state = ViewState(image=sha, model="resnet18", layer="layer1.0.conv1", n=4)
    expected = first.open(state).maps.copy()
    marker = tmp_path / "pwned"
    assert plant_everywhere(settings.cache_dir, marker) >= 2
    # The planted entries would run code under a stock, pickling reader: the test is real.
    stock = FileSystemCache(str(settings.cache_dir))
    entry = next(p for p in settings.cache_dir.iterdir() if p.is_file())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stock, "_get_filename", lambda _key: str(entry))
        stock.get("any")
    assert marker.exists()
    os.remove(marker)
    # A fresh worker (nothing in its memory) reads the planted folder: bytes, not objects.
    second = Analyzer(settings, registry=registry)
    np.testing.assert_array_equal(second.open(state).maps, expected)  # a damaged entry is a miss
    assert not marker.exists()
    assert second.activations.stats["computes"] == 1


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



def test_a_full_folder_loses_its_oldest_entries_down_to_the_low_water_mark(tmp_path: Path) -> None:
    backend = BoundedFileSystemCache(str(tmp_path / "c"), threshold=10, default_timeout=60)
    for i in range(10):
        backend.set(f"k{i}", b"x")
        # written one second apart, oldest first (the folder's clock, not a sleep)
        os.utime(backend._get_filename(f"k{i}"), ns=(i * 10**9, i * 10**9))
    assert backend._file_count == 10
    backend.set("new", b"y")
    # 9 of 10 may stay, less the one coming: the two oldest go, the rest and the new one stay
    assert [backend.get(f"k{i}") for i in range(10)] == [None, None] + [b"x"] * 8
    assert backend.get("new") == b"y"
    assert backend._file_count == 9


def test_an_entry_read_is_kept_before_older_unread_ones(tmp_path: Path) -> None:
    # Least recently used, not least recently written: under a stream of new
    # images, the entries users keep reading (the examples, written first)
    # must not be the first to go.
    backend = BoundedFileSystemCache(str(tmp_path / "c"), threshold=10, default_timeout=60)
    for i in range(10):
        backend.set(f"k{i}", b"x")
        os.utime(backend._get_filename(f"k{i}"), ns=(i * 10**9, i * 10**9))
    assert backend.get("k0") == b"x"  # the oldest written, read now
    backend.set("new", b"y")
    assert [backend.get(f"k{i}") for i in range(10)] == [b"x", None, None] + [b"x"] * 7
    assert backend.get("new") == b"y"


def test_a_read_leaves_the_expiry_alone(tmp_path: Path) -> None:
    backend = BoundedFileSystemCache(str(tmp_path / "c"), threshold=10, default_timeout=60)
    backend.set("k", b"x", timeout=1)
    with open(backend._get_filename("k"), "rb") as entry:
        expiry = entry.read(4)
    assert backend.get("k") == b"x"
    with open(backend._get_filename("k"), "rb") as entry:
        assert entry.read(4) == expiry


def test_making_room_reads_no_entry(tmp_path: Path) -> None:
    # cachelib opened every entry twice to prune a full folder: ~390 ms for a
    # fill into 4,000 entries. Room is made from one directory scan.
    backend = BoundedFileSystemCache(str(tmp_path / "c"), threshold=50, default_timeout=60)
    backend.set_many({f"a{i}": b"x" for i in range(50)})

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("an entry was opened to make room")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(backend, "_safe_stream_open", refuse)
        backend.set_many({f"b{i}": b"y" for i in range(21)})
        backend.set("c", b"z")
    assert backend._file_count <= 50
    assert backend.get("b20") == b"y" and backend.get("c") == b"z"
