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




def test_a_zlib_bomb_in_the_store_is_refused_without_inflating_it() -> None:
    import tracemalloc
    import zlib

    from dashapp.store.codec import META_MAX_BYTES, decode_meta, encode_meta

    assert decode_meta(encode_meta({"top": [1, 2], "layers": ["a"]})) == {"top": [1, 2], "layers": ["a"]}
    bomb = zlib.compress(b"[" + b" " * (200 << 20) + b"]", 9)  # 200 MB of JSON in about 200 KB
    tracemalloc.start()
    try:
        with pytest.raises(ValueError):
            decode_meta(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * META_MAX_BYTES
    with pytest.raises(ValueError):
        decode_meta(b"not zlib at all")
