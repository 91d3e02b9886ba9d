"""Crops cost what they show: the box is checked before the image is read, a
JPEG is decoded reduced (never below the tile's size), and a tile asked for
again comes from the cache."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

from dashapp.intake import accept_bytes
from dashapp.intake.reduced import decode_region, stored_size


def photo(width: int, height: int, orientation: int | None = None) -> bytes:
    """A smooth JPEG (gradients: a reduced decode must look like the full one)."""
    x = np.linspace(0, 255, width)[None, :]
    y = np.linspace(0, 255, height)[:, None]
    pixels = np.stack([x + 0 * y, y + 0 * x, (x + y) / 2], axis=-1).astype(np.uint8)
    image = Image.fromarray(pixels)
    buffer = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    image.save(buffer, format="JPEG", quality=92, exif=exif.tobytes())
    return buffer.getvalue()


@pytest.mark.parametrize("orientation", [None, 6])
def test_a_region_of_a_large_jpeg_is_decoded_reduced_and_looks_like_the_full_crop(orientation) -> None:
    data = photo(4000, 3000, orientation)
    full = accept_bytes(data).image
    assert stored_size(data) == full.size
    box = (1000, 500, 2000, 1500)
    piece = decode_region(data, box, 112)
    assert 112 <= max(piece.size) <= 200  # DCT-scaled 1/8: 125 px, not 1000
    expected = np.asarray(full.crop(box).resize(piece.size, Image.Resampling.BILINEAR), dtype=float)
    assert np.abs(np.asarray(piece, dtype=float) - expected).mean() < 6


@pytest.fixture(scope="module")
def served(make_app) -> Any:
    app = make_app()
    client = app.server.test_client()
    answer = client.post("/api/collections", data={"files": [(io.BytesIO(photo(1600, 1200)), "a/big.jpg"),
                                                             (io.BytesIO(photo(64, 48)), "a/small.jpg")]},
                         content_type="multipart/form-data")
    assert answer.status_code == 201, answer.json
    return app, client


def counting_reads(monkeypatch, app) -> list[str]:
    store = app.server.extensions["dashapp.analyzer"].library.store
    reads: list[str] = []
    real = store.stored_bytes
    monkeypatch.setattr(store, "stored_bytes", lambda sha: reads.append(sha) or real(sha))
    return reads


def test_a_bad_box_is_refused_before_the_image_is_read(served, monkeypatch) -> None:
    app, client = served
    reads = counting_reads(monkeypatch, app)
    sha = accept_bytes(photo(1600, 1200)).sha256
    for box in ("nan,0,1,1", "0,0,0,0", "5,5,1,1", "-9,-9,-1,-1", "0,0,1e308,5", "1,2,3", "0,0,1," + "9" * 200):
        answer = client.get(f"/api/crops/{sha}.jpg?box={box}")
        assert answer.status_code == 400, box
    assert reads == []
    assert client.get(f"/api/crops/{sha}.jpg?box=5000,5000,6000,6000").status_code == 400  # outside: header only


def test_a_tile_asked_for_again_comes_from_the_cache(served, monkeypatch) -> None:
    app, client = served
    reads = counting_reads(monkeypatch, app)
    sha = accept_bytes(photo(1600, 1200)).sha256
    first = client.get(f"/api/crops/{sha}.jpg?box=100,100,900,700")
    assert first.status_code == 200 and max(Image.open(io.BytesIO(first.data)).size) == 112
    again = client.get(f"/api/crops/{sha}.jpg?box=100,100,900,700")
    assert again.status_code == 200 and again.data == first.data
    assert reads == [sha]
