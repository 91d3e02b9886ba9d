"""The collection store's bound (issue 25): collections, their scan results
and job records are bounded by allocated blocks with the images they hold,
least recently used collection evicted first and whole; an evicted one says
so (410); a live collection's images survive the image store's eviction;
a finished job leaves no empty folders."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dashapp.collections import CollectionStore, FileBlobStore, build_collection
from dashapp.collections.manifest import Collection, CollectionEvicted
from dashapp.collections.sources import Candidate
from dashapp.intake import accept_bytes
from dashapp.store import FileImageStore
from dashapp.store.sqlite import allocated
from tests.support.hostile import encode, noise

MAX_PIXELS = 40_000_000


def make(images: FileImageStore, seed: int, count: int = 3) -> Collection:
    entries = [Candidate(f"{seed}-{i}.png", encode(noise(8, 8, seed=seed * 100 + i), "PNG")) for i in range(count)]
    return build_collection(f"c{seed}", entries, images)


def blocks(root: Path) -> int:
    return sum(allocated(path) for path in root.rglob("*") if path.is_file())


def stores(tmp_path: Path, bound: int, image_bound: int = 1 << 30) -> tuple[CollectionStore, FileImageStore]:
    images = FileImageStore(tmp_path / "images", MAX_PIXELS, max_bytes=image_bound)
    return CollectionStore(FileBlobStore(tmp_path / "collections", max_bytes=bound), images), images


def test_collections_are_bounded_by_blocks_least_recently_used_first(tmp_path: Path) -> None:
    # Each collection: a manifest and a scan record (a block each) and 3 images (a block each): 5 blocks.
    bound = 21 * 4096  # four collections fit
    store, images = stores(tmp_path, bound)
    kept = []
    for seed in range(6):
        collection = store.put(make(images, seed))
        store.blobs.put(f"scan:{collection.id}:resnet18:t:d", b"result" * 10)
        kept.append(collection)
        if seed == 3:
            store.blobs._touched.clear()  # type: ignore[attr-defined]  # another process's first read
            assert store.get(kept[0].id) is not None  # collection 0 is now recent
    held = sum(images.size_of([m.image for m in c.images]) for c in kept if store.get(c.id) is not None)
    assert blocks(tmp_path / "collections") + held <= bound
    alive = [store.get(c.id) is not None for c in kept]
    assert alive == [True, False, False, True, True, True]
    assert store.blobs.keys(f"scan:{kept[1].id}") == []  # its scan went with it
    with pytest.raises(CollectionEvicted) as raised:
        store.require(kept[1].id)
    assert raised.value.status == 410 and "removed to make room" in raised.value.message
    assert store.require("0" * 64) is None  # never stored: not "evicted"


def test_a_live_collections_images_survive_the_image_store_bound(tmp_path: Path) -> None:
    store, images = stores(tmp_path, 1 << 30, image_bound=8 * 4096)
    collection = store.put(make(images, 1, count=5))
    for seed in range(2, 26):  # one-off uploads, never stored as collections
        images.put(accept_bytes(encode(noise(8, 8, seed=seed), "PNG")))
    assert all(images.has(m.image) for m in collection.images)
    assert sum(allocated(p) for p in (tmp_path / "images").glob("??/*")) <= 8 * 4096 + images.size_of(
        [m.image for m in collection.images])
    # Evicted, the collection lets go: its images are evictable again.
    small = CollectionStore(FileBlobStore(tmp_path / "collections", max_bytes=1), images)
    small.put(make(images, 50, count=1))
    assert small.get(collection.id) is None
    for seed in range(60, 76):  # the bound is kept at each write
        images.put(accept_bytes(encode(noise(8, 8, seed=seed), "PNG")))
    assert not any(images.has(m.image) for m in collection.images)


def test_a_finished_jobs_folders_are_removed(tmp_path: Path) -> None:
    blobs = FileBlobStore(tmp_path / "collections")
    base = f"{'a' * 64}:resnet18:tag:digest"
    for index in range(3):
        blobs.put(f"progress:{base}:{index}", b"12")
    blobs.put(f"beat:{base}", str(time.time()).encode())
    for index in range(3):
        blobs.delete(f"progress:{base}:{index}")
    blobs.delete(f"beat:{base}")
    assert sorted(p.name for p in (tmp_path / "collections").iterdir()) == []
    assert blobs.index.total() == 0


def test_a_collection_larger_than_the_image_bound_keeps_its_first_images(tmp_path: Path) -> None:
    store, images = stores(tmp_path, 1 << 30, image_bound=4 * 4096)
    collection = store.put(make(images, 7, count=10))  # ten images, room for four unheld ones
    assert all(images.has(m.image) for m in collection.images)
    assert not images.index.db.conn().execute("SELECT 1 FROM holders WHERE owner LIKE 'building:%'").fetchall()
