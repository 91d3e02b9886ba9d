"""A collection costs what its bytes are worth: overlapping zip entries are
refused before anything is inflated, repeated bytes are never decoded twice,
and decoding is charged against the collection's budget."""

from __future__ import annotations

import io
import struct
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dashapp.collections import CollectionError, CollectionLimits, build_collection, from_files, from_zip
from dashapp.intake import DecodeBudget, DecodeBudgetSpent
from dashapp.store import FileImageStore

LISTINGS = 2000


def big_png(side: int = 6000) -> bytes:
    """A 36-megapixel PNG of one colour: a few hundred KB, seconds to decode."""
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (10, 200, 30)).save(buffer, format="PNG", compress_level=9)
    return buffer.getvalue()


def small_png(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (16, 24, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def overlapping_zip(payload: bytes, listings: int) -> bytes:
    """One stored entry, listed ``listings`` times in the central directory (same local header offset)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("img/0.png", payload)
    data = buffer.getvalue()
    eocd = data.rfind(b"PK\x05\x06")
    cd_size, cd_offset = struct.unpack_from("<II", data, eocd + 12)
    record = data[cd_offset:cd_offset + cd_size]
    name_length = struct.unpack_from("<H", record, 28)[0]
    assert record[46:46 + name_length] == b"img/0.png"
    records = b"".join(record[:46] + f"img/{i}.png".encode().ljust(name_length, b"_")[:name_length]
                       + record[46 + name_length:] for i in range(listings))
    end = bytearray(data[eocd:eocd + 22])
    struct.pack_into("<HHII", end, 8, listings, listings, len(records), cd_offset)
    return data[:cd_offset] + records + bytes(end)


@pytest.fixture
def images(tmp_path: Path) -> FileImageStore:
    return FileImageStore(tmp_path / "images", max_pixels=40_000_000)


def test_a_zip_listing_one_large_stored_png_many_times_is_refused_in_under_a_second(images) -> None:
    data = overlapping_zip(big_png(), LISTINGS)
    assert len(zipfile.ZipFile(io.BytesIO(data)).infolist()) == LISTINGS  # zipfile itself accepts it
    started = time.perf_counter()
    with pytest.raises(CollectionError, match="overlap"):
        build_collection("bomb", from_zip(data, CollectionLimits()), images)
    assert time.perf_counter() - started < 1.0


def test_entries_with_the_same_bytes_are_decoded_once(monkeypatch, images) -> None:
    import dashapp.intake.budget as budget_module

    decoded: list[int] = []
    real = budget_module.accept_bytes
    monkeypatch.setattr(budget_module, "accept_bytes", lambda data, limits: decoded.append(1) or real(data, limits))
    same = small_png(1)
    files = [("a.png", same), ("b.png", small_png(2)), ("c.png", same), ("d.png", same)]
    collection = build_collection("dups", from_files(files, CollectionLimits()), images)
    assert len(collection.images) == 2
    assert len(decoded) == 2
    refused = {r.name: r.reason for r in collection.rejected}
    assert refused == {"c.png": "same file as a.png; counted once", "d.png": "same file as a.png; counted once"}


def test_decoded_pixels_past_the_budget_refuse_the_collection(images) -> None:
    files = [(f"{seed}.png", small_png(seed)) for seed in range(10)]  # 384 pixels each
    limits = CollectionLimits()
    with pytest.raises(DecodeBudgetSpent, match="fewer or smaller images"):
        build_collection("many", from_files(files, limits), images, budget=DecodeBudget(300.0, 384 * 3))
    collection = build_collection("many", from_files(files, limits), images, budget=DecodeBudget(300.0, 384 * 10))
    assert len(collection.images) == 10


def test_decoding_time_past_the_budget_refuses_the_collection(images) -> None:
    budget = DecodeBudget(max_seconds=0.05, max_pixels=10**12)
    files = [("big.png", big_png(3000))] + [(f"{seed}.png", small_png(seed)) for seed in range(3)]
    with pytest.raises(DecodeBudgetSpent, match="seconds"):
        build_collection("slow", from_files(files, CollectionLimits()), images, budget=budget)
    assert budget.seconds >= 0.05
