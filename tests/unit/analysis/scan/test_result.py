"""Scan results: the exact merge (ties included), the bounded size, and
the byte format (npz without pickle)."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest

from dashapp.analysis.scan.result import from_bytes, merge, results_equal, to_bytes
from dashapp.analysis.scan.scanner import ScanItem, scan
from tests.support.planted import RED, red_square_image
from tests.support.planted_collection import image_id, planted_items


def test_merge_of_shards_equals_one_pass_exactly_with_ties(planted) -> None:
    # 24 copies of the same red square: every filter ties on value, so the
    # id (then the position) decides; ids are shuffled so order matters.
    ids = [image_id(i * 7919 % 1000) for i in range(24)]
    same = red_square_image(64, 48, (10, 10, 30, 30))
    items = [ScanItem(i, same, "red" if n % 3 else "plain") for n, i in enumerate(ids)]
    whole = scan(planted, items, batch_size=4, k=8)
    shuffled = items[:]
    random.Random(1).shuffle(shuffled)
    parts = [scan(planted, shuffled[i:i + 5], batch_size=3, k=8) for i in range(0, 24, 5)]
    merged = parts[0]
    for part in parts[1:]:
        merged = merge(part, merged)
    assert results_equal(merged, whole)
    assert whole.image_ids[:8] == sorted(ids)[:8]
    assert [whole.image_ids[j] for j in whole.layers["conv"].images[RED]] == sorted(ids)[:8]


def test_result_size_does_not_grow_with_the_number_of_images(planted) -> None:
    few = scan(planted, planted_items()[:5], batch_size=8)
    many = scan(planted, planted_items(), batch_size=8)
    for name in few.layers:
        assert few.layers[name].values.shape == many.layers[name].values.shape == (3, 16)
    assert len(many.image_ids) <= 3 * 16


def test_bytes_round_trip_and_refuse_anything_else(planted_result) -> None:
    assert results_equal(from_bytes(to_bytes(planted_result)), planted_result)
    with pytest.raises(ValueError):
        from_bytes(b"not an npz")
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.array([{"a": 1}], dtype=object))  # would need pickle to load
    with pytest.raises(ValueError):
        from_bytes(buffer.getvalue())
