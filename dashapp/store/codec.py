"""Our own compact format for stored maps and predictions: nothing read from a
cache is ever unpickled into arrays."""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

import numpy as np
import torch

BLOB_MAGIC = b"ACT2"
# A stored prediction entry inflates to a few kilobytes; anything past this is
# not ours (a zlib bomb planted in a shared store) and is refused unread.
META_MAX_BYTES = 4 << 20


def to_half(array: np.ndarray) -> np.ndarray:
    """float32 -> float16, bit-identical to numpy's cast but about 7x faster
    (torch's conversion is vectorized); this runs on every layer of a fill."""
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).half().numpy()


def to_single(array: np.ndarray) -> np.ndarray:
    """float16 -> float32, likewise."""
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float16)).float().numpy()


def encode_maps(maps: np.ndarray) -> bytes:
    """(C, H, W) responses -> compact bytes in our own format (nothing from the
    cache is ever unpickled into arrays): float16 values of the non-zero
    positions plus a bitmask of where they are. Rectified maps are about half
    zeros, so this is as small as zlib and several times faster both ways.

    Done on the values' bits (uint16): numpy compares float16 in software,
    about ten times slower. A float16 is zero (+0 or -0) exactly when its bits
    other than the sign are, so the mask and the values kept are those of
    ``half != 0``; ``np.compress`` selects them in half the time of a boolean
    index, and the blob is joined in one copy."""
    half = np.ascontiguousarray(maps if maps.dtype == np.float16 else to_half(maps))
    bits = half.reshape(-1).view(np.uint16)
    nonzero = (bits & 0x7FFF) != 0
    values = np.compress(nonzero, bits)
    header = json.dumps({"shape": list(maps.shape), "nonzero": int(values.size)}).encode()
    return b"".join((BLOB_MAGIC, struct.pack("<I", len(header)), header, np.packbits(nonzero).data, values.data))


def decode_maps(blob: bytes) -> np.ndarray:
    if not isinstance(blob, bytes) or not blob.startswith(BLOB_MAGIC):
        raise ValueError("not an activation blob")
    try:
        (header_len,) = struct.unpack_from("<I", blob, len(BLOB_MAGIC))
        start = len(BLOB_MAGIC) + 4
        header = json.loads(blob[start : start + header_len])
        shape = tuple(int(v) for v in header["shape"])
        count = int(header["nonzero"])
    except (struct.error, KeyError, TypeError) as exc:
        # A damaged entry is a cache miss (callers catch ValueError), never a 500.
        raise ValueError("activation blob header is damaged") from exc
    total = int(np.prod(shape))
    mask_bytes = (total + 7) // 8
    body = start + header_len  # read in place: slicing the blob would copy it
    if total < 0 or count < 0 or len(blob) - body != mask_bytes + 2 * count:
        raise ValueError("activation blob is truncated")
    mask = np.unpackbits(np.frombuffer(blob, dtype=np.uint8, count=mask_bytes, offset=body), count=total).view(bool)
    if np.count_nonzero(mask) != count:
        raise ValueError("activation blob is inconsistent")
    array = np.zeros(total, dtype=np.float32)
    # The values copied once, writable (torch refuses to wrap read-only
    # buffers silently), and placed by index: a boolean assignment is 4x slower.
    values = np.frombuffer(blob, dtype=np.float16, count=count, offset=body + mask_bytes).copy()
    array[np.flatnonzero(mask)] = to_single(values)
    return array.reshape(shape)


def encode_meta(meta: dict[str, Any]) -> bytes:
    return zlib.compress(json.dumps(meta).encode())


def decode_meta(blob: bytes) -> dict[str, Any]:
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(blob, META_MAX_BYTES)
    except zlib.error as exc:
        raise ValueError("prediction entry is damaged") from exc
    if inflater.unconsumed_tail or not inflater.eof:
        raise ValueError("prediction entry is damaged or inflates past its bound")
    meta = json.loads(text)
    if not isinstance(meta, dict):
        raise ValueError("prediction entry is not an object")
    return meta
