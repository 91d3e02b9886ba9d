"""The float16 blob format of stored maps: compact, exact to float16, damage refused."""

from __future__ import annotations

import numpy as np
import pytest

from dashapp.store import (
    decode_maps,
    encode_maps,
)


def test_blob_round_trip_is_float16_and_compact() -> None:
    rng = np.random.default_rng(0)
    maps = np.maximum(rng.normal(size=(64, 28, 28)), 0).astype(np.float32)
    blob = encode_maps(maps)
    back = decode_maps(blob)
    assert back.shape == maps.shape and back.dtype == np.float32
    np.testing.assert_allclose(back, maps.astype(np.float16).astype(np.float32))
    assert (back == 0).sum() == (maps == 0).sum()  # zeros stay zeros: sparsity survives
    assert len(blob) < maps.size * 2  # smaller than raw float16


@pytest.mark.parametrize("blob", [b"", b"ACT2", b"ACT1", b"junk" * 10, encode_maps(np.ones((2, 2, 2)))[:-3]])
def test_corrupt_blobs_are_rejected(blob: bytes) -> None:
    with pytest.raises(Exception) as info:
        decode_maps(blob)
    assert isinstance(info.value, (ValueError, Exception))


