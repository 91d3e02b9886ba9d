"""Scans of large images hold them reduced: decoded near the model's input
size (a JPEG by DCT scaling, anything else reduced at once after its own
decode), with boxes still in the original's pixels, and batches bounded by
the pixels they hold. Ordinary images are decoded whole, as before."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from PIL import Image

from dashapp.analysis.scan.scanner import ScanItem, batches
from dashapp.collections import scanning
from dashapp.intake.reduced import decode_reduced
from devtools.scan_memory import LARGE, SMALL, photo, scan_peak_mb, store_collection


@pytest.mark.parametrize("image_format", ["JPEG", "PNG"])
def test_a_large_image_is_decoded_reduced_to_near_the_input_size(image_format: str) -> None:
    data = photo(1, (4000, 3000), image_format)
    image, size = decode_reduced(data, 448)
    assert size == (4000, 3000)
    assert 448 <= min(image.size) < 2 * 448 and image.mode == "RGB"
    assert abs(image.width / image.height - 4 / 3) < 0.02


def test_batches_are_bounded_by_pixels_as_well_as_count() -> None:
    big = Image.new("RGB", (100, 100))
    items = [ScanItem(f"{i:064x}", big) for i in range(10)]
    assert [len(b) for b in batches(items, 4)] == [4, 4, 2]
    assert [len(b) for b in batches(items, 4, max_pixels=25_000)] == [2, 2, 2, 2, 2]
    assert [len(b) for b in batches(items, 4, max_pixels=1)] == [1] * 10  # one image always goes through


def test_only_images_over_the_threshold_are_reduced(tmp_path: Path, monkeypatch) -> None:
    from dashapp.collections import CollectionStore, FileBlobStore
    from dashapp.store import FileImageStore

    folder = tmp_path / "c"
    collection = store_collection(folder, [photo(1, (640, 480)), photo(2, (1200, 900))])
    store = FileImageStore(folder / "images", 40_000_000)
    blobs = FileBlobStore(folder / "blobs")
    scanner = scanning.Scanner(blobs, CollectionStore(blobs), store, None, 8, 4)
    members = CollectionStore(blobs).get(collection).images
    monkeypatch.setattr(scanning, "FULL_DECODE_PIXELS", 500_000)  # the 1200x900 one is "large" here
    items = {item.original_size: item for item in scanner._items(members, 224)}
    assert items[(640, 480)].size is None and items[(640, 480)].image.size == (640, 480)
    reduced = items[(1200, 900)]
    assert reduced.size == (1200, 900) and min(reduced.image.size) < 900


@pytest.mark.slow
def test_a_scan_of_40_megapixel_photos_stays_within_its_memory_bound() -> None:
    """Bound: the scan's peak RSS (once the model is built) for four 40 MP
    JPEGs is at most 1.2 x the peak for four small images, plus 64 MB of slack
    for the one JPEG being decoded (reduced). Holding them at full size, as
    before, added about 120 MB per image."""
    with tempfile.TemporaryDirectory() as tmp:
        small = store_collection(Path(tmp) / "small", [photo(i, SMALL) for i in range(4)])
        large = store_collection(Path(tmp) / "large", [photo(100 + i, LARGE) for i in range(4)])
        small_peak = scan_peak_mb(Path(tmp) / "small", small)
        large_peak = scan_peak_mb(Path(tmp) / "large", large)
    assert large_peak <= 1.2 * small_peak + 64, (large_peak, small_peak)
