"""dashapp/store/images.py: round trip, verification, atomic writes; storage
without amplification and with a bound
(issue 11, finding 5). An image is kept as the smaller of its validated
original and the normalized PNG; the store evicts least recently used images
past ``max_bytes``; pinned ones (the examples) stay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dashapp.intake import accept_bytes, image_sha256
from dashapp.store import FileImageStore, is_sha256
from dashapp.store.sqlite import allocated
from tests.support.hostile import encode, noise

MAX_PIXELS = 40_000_000


def stored_files(root: Path) -> dict[str, int]:
    return {p.name.split(".")[0]: p.stat().st_size for p in root.glob("??/*") if not p.name.startswith(".")}


def test_a_noisy_jpeg_is_kept_as_its_original_bytes(tmp_path: Path) -> None:
    jpeg = encode(noise(640, 480, seed=11), "JPEG", quality=90)
    accepted = accept_bytes(jpeg)
    png_size = len(accepted.png_bytes())
    assert png_size > 2 * len(jpeg)  # the amplification of the review, at a small size
    store = FileImageStore(tmp_path / "images", MAX_PIXELS)
    store.put(accepted)
    assert stored_files(tmp_path / "images") == {accepted.sha256: len(jpeg)}
    # Another worker reads it back: the same pixels, the hash verified.
    image = FileImageStore(tmp_path / "images", MAX_PIXELS).get(accepted.sha256)
    assert image is not None and image_sha256(image) == accepted.sha256
    np.testing.assert_array_equal(np.asarray(image), np.asarray(accepted.image))


def test_an_uncompressed_upload_is_kept_as_png(tmp_path: Path) -> None:
    bmp = encode(noise(64, 48, seed=12).quantize(8).convert("RGB"), "BMP")
    accepted = accept_bytes(bmp)
    store = FileImageStore(tmp_path / "images", MAX_PIXELS)
    store.put(accepted)
    assert stored_files(tmp_path / "images") == {accepted.sha256: len(accepted.png_bytes())}
    assert len(accepted.png_bytes()) < len(bmp)
    image = FileImageStore(tmp_path / "images", MAX_PIXELS).get(accepted.sha256)
    assert image is not None and image_sha256(image) == accepted.sha256


def test_the_store_is_bounded_least_recently_used_first_examples_stay(tmp_path: Path) -> None:
    uploads = [accept_bytes(encode(noise(96, 96, seed=20 + i), "JPEG", quality=90)) for i in range(6)]
    example = accept_bytes(encode(noise(96, 96, seed=99), "JPEG", quality=90))
    scratch = FileImageStore(tmp_path / "scratch", MAX_PIXELS)
    size = max(allocated(scratch._path(scratch.put(a))) for a in uploads)  # blocks on disk, not lengths
    root = tmp_path / "images"
    store = FileImageStore(root, MAX_PIXELS, max_bytes=4 * size)
    store.pin(example.sha256)
    store.put(example)
    for accepted in uploads[:3]:
        store.put(accepted)
    store._touched.clear()  # a use by another process: its first since the store
    assert store.get(uploads[0].sha256) is not None  # a use: upload 0 is now the most recent
    for accepted in uploads[3:]:
        store.put(accepted)
    kept = stored_files(root)
    assert sum(allocated(store._path(sha)) for sha in kept if sha != example.sha256) <= 4 * size
    assert example.sha256 in kept  # pinned: never evicted, and not counted
    assert uploads[0].sha256 in kept  # recently used
    assert uploads[1].sha256 not in kept and uploads[2].sha256 not in kept  # least recently used went first
    assert all(a.sha256 in kept for a in uploads[3:])
    assert not store.has(uploads[1].sha256)


def test_file_image_store_round_trip_and_verification(tmp_path: Path, example_bytes: bytes) -> None:
    store = FileImageStore(tmp_path / "images", max_pixels=40_000_000)
    accepted = accept_bytes(example_bytes)
    assert store.put(accepted) == accepted.sha256 and store.has(accepted.sha256)
    image = FileImageStore(tmp_path / "images", max_pixels=40_000_000).get(accepted.sha256)  # fresh process view
    assert image is not None and image.size == (accepted.width, accepted.height)
    # No temporary files are left behind.
    assert not [p for p in (tmp_path / "images").rglob("*") if p.name.startswith(".incoming-")]
    # A tampered file is never served.
    path = next((tmp_path / "images").rglob(f"{accepted.sha256}.*"))
    path.write_bytes(path.read_bytes()[:-100])
    assert FileImageStore(tmp_path / "images", max_pixels=40_000_000).get(accepted.sha256) is None
    assert store.get("not-a-sha") is None and store.get("0" * 64) is None
    assert not is_sha256("../../etc/passwd")


def test_a_write_that_dies_midway_leaves_nothing_visible(tmp_path: Path, example_bytes: bytes,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileImageStore(tmp_path / "images", max_pixels=40_000_000)
    accepted = accept_bytes(example_bytes)

    def dying_replace(*_args: Any) -> None:
        raise KeyboardInterrupt("worker killed")

    monkeypatch.setattr("dashapp.store.images.os.replace", dying_replace)
    with pytest.raises(KeyboardInterrupt):
        store.put(accepted)
    monkeypatch.undo()
    assert not store.has(accepted.sha256) and store.get(accepted.sha256) is None
    assert not list((tmp_path / "images").rglob("*.tmp"))


