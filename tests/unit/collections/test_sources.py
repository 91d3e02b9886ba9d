"""Hostile collections: what a zip, a pile of files or a server folder may
hold, and what becomes of it. A bad entry is listed with its reason; it
never fails the collection."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dashapp.collections import (
    CollectionError,
    CollectionLimits,
    FileBlobStore,
    build_collection,
    collection_id,
    folder_names,
    from_files,
    from_folder,
    from_zip,
)
from dashapp.collections.demo import demo_entries
from dashapp.store import FileImageStore


def png(seed: int, size: tuple[int, int] = (24, 16)) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def make_zip(entries: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def images(tmp_path: Path) -> FileImageStore:
    return FileImageStore(tmp_path / "images", max_pixels=40_000_000)


def reasons(collection) -> dict[str, str]:
    return {r.name: r.reason for r in collection.rejected}


def test_a_zip_with_a_non_image_keeps_the_images_and_lists_the_rest(images) -> None:
    data = make_zip([("cats/a.png", png(1)), ("dogs/b.png", png(2)), ("notes.txt", b"hello, not an image")])
    collection = build_collection("mixed", from_zip(data, CollectionLimits()), images)
    assert len(collection.images) == 2
    assert collection.labels == ["cats", "dogs"]
    assert "notes.txt" in reasons(collection)
    assert all(images.has(member.image) for member in collection.images)


def test_a_zip_bomb_is_refused_from_its_declared_sizes_without_inflating(images) -> None:
    bomb = make_zip([("bomb.bmp", b"\0" * (8 * 1024 * 1024)), ("ok.png", png(3))])
    collection = build_collection("bomb", from_zip(bomb, CollectionLimits()), images)
    assert len(collection.images) == 1
    assert "compression ratio" in reasons(collection)["bomb.bmp"]


def test_an_entry_that_lies_about_its_size_is_cut_off_at_the_declared_size(images) -> None:
    honest = make_zip([("liar.png", b"\0" * 200_000)])
    # Patch the declared uncompressed size (local header and central
    # directory) down to 100 bytes: inflating must stop there.
    info = zipfile.ZipFile(io.BytesIO(honest)).infolist()[0]
    patched = bytearray(honest)
    patched[info.header_offset + 22:info.header_offset + 26] = (100).to_bytes(4, "little")
    central = patched.rfind(b"PK\x01\x02")
    patched[central + 24:central + 28] = (100).to_bytes(4, "little")
    collection = build_collection("liar", from_zip(bytes(patched), CollectionLimits()), images)
    assert collection.images == []
    # zipfile stops at the declared size and the CRC then fails; our own
    # bounded read would refuse one byte more in any case.
    assert "CRC" in reasons(collection)["liar.png"] or "declared size" in reasons(collection)["liar.png"]


def test_ten_thousand_tiny_entries_are_bounded_by_the_image_limit(images) -> None:
    tiny = png(4, (2, 2))
    data = make_zip([(f"t/{i:05d}.png", tiny if i < 3 else bytes([i % 251])) for i in range(10_000)],
                    compression=zipfile.ZIP_STORED)
    collection = build_collection("tiny", from_zip(data, CollectionLimits(max_images=50)), images)
    assert len(collection.images) == 1  # the three valid ones are the same image
    assert len(collection.rejected) == 10_000 - 1
    over = [r for r in collection.rejected if "over the limit of 50 images" in r.reason]
    assert len(over) == 10_000 - 50


def test_a_nested_zip_is_skipped_by_name_and_by_content(images) -> None:
    inner = make_zip([("x.png", png(5))])
    data = make_zip([("inner.zip", inner), ("disguised.png", inner), ("real.png", png(6))])
    collection = build_collection("nested", from_zip(data, CollectionLimits()), images)
    assert len(collection.images) == 1
    assert reasons(collection)["inner.zip"] == "nested archive skipped"
    assert reasons(collection)["disguised.png"] == "nested archive skipped"


def test_dot_dot_names_are_only_names(images, tmp_path: Path) -> None:
    before = set(tmp_path.rglob("*"))
    data = make_zip([("../../evil.png", png(7)), ("/abs/olute.png", png(8)), ("..\\win.png", png(9))])
    collection = build_collection("paths", from_zip(data, CollectionLimits()), images)
    assert len(collection.images) == 3
    assert {m.label for m in collection.images} == {None, "abs"}  # ".." is never a label
    created = set(tmp_path.rglob("*")) - before
    index = {tmp_path / f"images.index.sqlite{suffix}" for suffix in ("", "-wal", "-shm")}  # the store's own
    assert all(path.is_relative_to(tmp_path / "images") or path in index for path in created)
    assert not (tmp_path.parent / "evil.png").exists()


def test_duplicates_are_counted_once_and_the_id_ignores_order_and_names(images) -> None:
    a, b = png(10), png(11)
    first = build_collection("one", from_files([("a.png", a), ("b.png", b), ("a-again.png", a)],
                                               CollectionLimits()), images)
    second = build_collection("two", from_files([("y.png", b), ("x.png", a)], CollectionLimits()), images)
    assert len(first.images) == 2
    assert "counted once" in reasons(first)["a-again.png"]
    assert first.id == second.id == collection_id(m.image for m in first.images)


def test_not_a_zip_fails_the_upload_with_a_message() -> None:
    with pytest.raises(CollectionError, match="not a readable zip"):
        list(from_zip(b"PK\x03\x04 but nothing else", CollectionLimits()))


def test_the_byte_limit_bounds_what_is_read(images) -> None:
    data = make_zip([(f"{i}.png", png(20 + i, (64, 64))) for i in range(5)], compression=zipfile.ZIP_STORED)
    limit = len(png(20, (64, 64))) * 2 + 10
    collection = build_collection("bytes", from_zip(data, CollectionLimits(max_bytes=limit)), images)
    assert len(collection.images) == 2
    assert sum("bytes per collection" in r.reason for r in collection.rejected) == 3


def test_server_folder_layout_labels_and_symlinks_out_are_skipped(images, tmp_path: Path) -> None:
    root = tmp_path / "collections"
    (root / "birds" / "owl").mkdir(parents=True)
    (root / "birds" / "owl" / "1.png").write_bytes(png(30))
    (root / "birds" / "loose.png").write_bytes(png(31))
    (root / "birds" / "deep" / "deeper").mkdir(parents=True)
    (root / "birds" / "deep" / "deeper" / "x.png").write_bytes(png(32))  # two levels down: ignored
    secret = tmp_path / "secret.png"
    secret.write_bytes(png(33))
    os.symlink(secret, root / "birds" / "owl" / "link.png")
    os.symlink(tmp_path, root / "escape")
    assert folder_names(root) == ["birds"]
    collection = build_collection("birds", from_folder(root, "birds", CollectionLimits()), images)
    assert sorted((m.name, m.label) for m in collection.images) == [("loose.png", None), ("owl/1.png", "owl")]
    with pytest.raises(CollectionError):
        list(from_folder(root, "../collections", CollectionLimits()))


def test_the_demo_collection_is_labelled_and_whole(images, tmp_path: Path) -> None:
    collection = build_collection("demo", demo_entries(), images)
    assert collection.rejected == []
    assert len(collection.images) == 22
    assert len(collection.labels) == 7


def test_manifests_round_trip_through_the_blob_store(images, tmp_path: Path) -> None:
    from dashapp.collections import CollectionStore

    store = CollectionStore(FileBlobStore(tmp_path / "blobs"))
    built = build_collection("pair", from_files([("a.png", png(40)), ("b.txt", b"x")], CollectionLimits()), images)
    store.put(built)
    again = CollectionStore(FileBlobStore(tmp_path / "blobs")).get(built.id)
    assert again is not None and again.images == built.images and again.name == "pair"
    assert [c.id for c in store.list()] == [built.id]
    assert store.get("../../etc/passwd") is None
