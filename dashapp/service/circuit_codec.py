"""Circuits and channel attributions as bytes for the shared store (the
Flask-Caching backend every worker and host reads, ``store.ActivationStore``).

Our own format, like ``store.codec``: nothing read from a cache is ever
unpickled. A blob is a magic, the length of a zlib-compressed JSON header
(the scalars, each link, and the arrays' shapes), then the arrays' raw
little-endian bytes. Floats round-trip exactly (JSON writes a float64's
shortest repr; float32 kernels widen and narrow back unchanged), so a stored
answer is the computed one to the last bit and ``Σ contributions + bias``
still equals ``value``.
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

import numpy as np

from dashapp.analysis.attribution.channels import ChannelAttribution
from dashapp.analysis.circuits.circuit import Circuit, Link

CIRCUIT_MAGIC = b"CIR1"
ATTRIBUTION_MAGIC = b"ATT1"
HEADER_MAX_BYTES = 16 << 20  # a header that inflates past this is not ours (a planted zlib bomb)


def _pack(magic: bytes, header: dict[str, Any], arrays: list[np.ndarray]) -> bytes:
    header = {**header, "arrays": [[a.dtype.str, list(a.shape)] for a in arrays]}
    packed = zlib.compress(json.dumps(header).encode())
    body = b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)
    return magic + struct.pack("<I", len(packed)) + packed + body


def _unpack(magic: bytes, blob: bytes) -> tuple[dict[str, Any], list[np.ndarray]]:
    """(header, arrays); ``ValueError`` for anything that is not a whole blob of ours."""
    if not isinstance(blob, bytes) or not blob.startswith(magic):
        raise ValueError("not a stored circuit or attribution")
    try:
        (length,) = struct.unpack_from("<I", blob, len(magic))
        start = len(magic) + 4
        inflater = zlib.decompressobj()
        text = inflater.decompress(blob[start:start + length], HEADER_MAX_BYTES)
        if inflater.unconsumed_tail or not inflater.eof:
            raise ValueError("header inflates past its bound")
        header = json.loads(text)
        arrays, offset = [], start + length
        for dtype, shape in header["arrays"]:
            kind = np.dtype(dtype)
            if kind.kind != "f" or kind.byteorder == ">":
                raise ValueError("unexpected array type")
            count = int(np.prod(shape, dtype=np.int64)) * kind.itemsize
            if count < 0 or offset + count > len(blob):
                raise ValueError("truncated")
            arrays.append(np.frombuffer(blob, dtype=kind, count=count // kind.itemsize, offset=offset)
                          .reshape(shape).copy())
            offset += count
    except (struct.error, zlib.error, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError("damaged stored circuit or attribution") from exc
    if offset != len(blob):
        raise ValueError("trailing bytes")
    return header, arrays


def _link(link: Link) -> list[Any]:
    return [link.layer, link.channel, link.source, link.kind, link.contribution, link.map_total, link.weight_norm,
            link.kernel.astype(np.float32).tolist()]


def _unlink(row: list[Any]) -> Link:
    layer, channel, source, kind, contribution, map_total, weight_norm, kernel = row
    return Link(layer, int(channel), str(source), str(kind), contribution, map_total, float(weight_norm),
                np.asarray(kernel, dtype=np.float32))


def encode_circuit(found: Circuit) -> bytes:
    return _pack(CIRCUIT_MAGIC, {
        "layer": found.layer, "filter": found.filter, "cell": list(found.cell), "value": found.value,
        "network_value": found.network_value, "bias": found.bias,
        "inputs": [_link(link) for link in found.inputs], "outputs": [_link(link) for link in found.outputs],
    }, [])


def decode_circuit(blob: bytes) -> Circuit:
    header, _ = _unpack(CIRCUIT_MAGIC, blob)
    try:
        return Circuit(str(header["layer"]), int(header["filter"]), (int(header["cell"][0]), int(header["cell"][1])),
                       float(header["value"]), float(header["network_value"]), float(header["bias"]),
                       [_unlink(row) for row in header["inputs"]], [_unlink(row) for row in header["outputs"]])
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise ValueError("damaged stored circuit") from exc


def encode_attribution(found: ChannelAttribution) -> bytes:
    return _pack(ATTRIBUTION_MAGIC, {
        "layer": found.layer, "class": found.class_index, "method": found.method, "logit": found.logit,
        "baseline_logit": found.baseline_logit,
    }, [found.attributions.astype("<f8"), found.maps.astype("<f4")])


def decode_attribution(blob: bytes) -> ChannelAttribution:
    header, arrays = _unpack(ATTRIBUTION_MAGIC, blob)
    try:
        attributions, maps = arrays
        if attributions.ndim != 1 or maps.ndim != 3 or maps.shape[0] != attributions.shape[0]:
            raise ValueError("shapes disagree")
        return ChannelAttribution(str(header["layer"]), int(header["class"]), str(header["method"]),
                                  float(header["logit"]), float(header["baseline_logit"]), attributions, maps)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError("damaged stored attribution") from exc
