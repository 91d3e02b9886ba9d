"""The fast blob codec is byte for byte the plain definition: the float16
values that are not zero (``half != 0``, so -0 is a zero and NaN is kept), in
order, after a bitmask of where they are; decoding gives those float16 values
as float32 and +0 everywhere else."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from dashapp.store.codec import BLOB_MAGIC, decode_maps, encode_maps

SPECIAL = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-8, -1e-8, 6e-8, 3e-5, 65504.0, 7e4, -2.5, 1.0],
                   dtype=np.float32)


def plain_encode(maps: np.ndarray) -> bytes:
    half = maps.astype(np.float32).astype(np.float16).ravel()
    nonzero = half != 0
    values = half[nonzero]
    header = json.dumps({"shape": list(maps.shape), "nonzero": int(values.size)}).encode()
    return BLOB_MAGIC + struct.pack("<I", len(header)) + header + np.packbits(nonzero).tobytes() + values.tobytes()


def cases() -> list[np.ndarray]:
    rng = np.random.default_rng(26)
    found: list[np.ndarray] = []
    for shape in [(1, 1, 1), (3, 5, 7), (16, 28, 28), (2, 0, 3), (5, 13, 1)]:
        normal = rng.normal(size=shape).astype(np.float32)
        found += [normal, np.maximum(normal, 0), np.maximum(normal, 0).astype(np.float16), normal * 1e-7]
    found.append(rng.choice(SPECIAL, size=(4, 9, 9)))
    found.append(np.asfortranarray(rng.normal(size=(4, 6, 8)).astype(np.float32)))  # not C-contiguous
    found.append(rng.normal(size=(4, 6, 8))[:, ::2])  # float64, strided
    return found


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
@pytest.mark.parametrize("maps", cases(), ids=lambda maps: f"{maps.dtype}{list(maps.shape)}")
def test_encode_is_the_plain_definition_byte_for_byte(maps: np.ndarray) -> None:
    blob = encode_maps(maps)
    assert blob == plain_encode(maps)
    back = decode_maps(blob)
    half = maps.astype(np.float32).astype(np.float16)
    expected = np.where(half != 0, half.astype(np.float32), np.float32(0))
    assert back.dtype == np.float32 and back.shape == maps.shape
    assert back.tobytes() == expected.tobytes()  # bit for bit: NaN kept, every zero a +0
