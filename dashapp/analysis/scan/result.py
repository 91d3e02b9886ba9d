"""What a collection scan keeps per filter, how two partial results merge,
and how a result travels as bytes (npz, never pickle).

Per layer, arrays indexed by filter: the top-k images by the filter's peak
response with the peak's map position and the image's size; the number of
images where the filter fires; sums of its mean response and of its peak;
per class label the sum of its peaks. Memory is layers x filters x k,
whatever the number of images.

Exactness: an image contributes one candidate per filter, and the top-k is
taken under one total order (value desc, then image id asc, then row, then
column), so the top-k of a union is the top-k of the parts' top-k lists:
``merge(scan(A), scan(B)) == scan(A + B)``. Sums are kept in fixed point
(int64 multiples of 2**-24) so that they too are exact in any merge order.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

import numpy as np

FIXED_POINT = float(2**24)
EMPTY_VALUE = -np.inf  # an unused top-k slot sorts after every real (rectified, >= 0) peak
FORMAT = "scan-result/1"


def to_fixed(values: np.ndarray) -> np.ndarray:
    """float -> int64 multiples of 2**-24 (sums of these are exact in any order)."""
    return np.rint(np.asarray(values, dtype=np.float64) * FIXED_POINT).astype(np.int64)


@dataclass
class LayerTop:
    """One layer's per-filter accumulators; every array's first axis is the filter."""

    values: np.ndarray  # float32 (C, k) peak values, best first; EMPTY_VALUE when unused
    images: np.ndarray  # int32 (C, k) index into ScanResult.image_ids; -1 when unused
    rows: np.ndarray  # int32 (C, k) map row of the peak
    cols: np.ndarray  # int32 (C, k) map column of the peak
    widths: np.ndarray  # int32 (C, k) the image's original width (for boxes)
    heights: np.ndarray  # int32 (C, k)
    fires: np.ndarray  # int64 (C,) images where the filter's peak passes the 5 % rule
    mean_sum: np.ndarray  # int64 (C,) fixed-point sum of the per-image mean response
    peak_sum: np.ndarray  # int64 (C,) fixed-point sum of the per-image peak
    class_sum: np.ndarray  # int64 (C, L) fixed-point sum of peaks per class label

    ARRAYS = ("values", "images", "rows", "cols", "widths", "heights", "fires", "mean_sum", "peak_sum",
              "class_sum")

    @property
    def filters(self) -> int:
        return int(self.values.shape[0])


@dataclass
class ScanResult:
    model: str
    weights: str  # the weights tag: results from random weights never pass for pretrained ones
    k: int
    layers: dict[str, LayerTop]
    image_ids: list[str]  # sorted; the ids that some top-k slot refers to
    labels: list[str]  # sorted class labels seen so far
    class_counts: np.ndarray  # int64 (L,) labelled images per class
    images: int = 0  # images scanned
    extra: dict[str, object] = field(default_factory=dict)  # e.g. the collection id

    def mean_response(self, layer: str) -> np.ndarray:
        top = self.layers[layer]
        return top.mean_sum / FIXED_POINT / max(self.images, 1)

    def mean_peak(self, layer: str) -> np.ndarray:
        top = self.layers[layer]
        return top.peak_sum / FIXED_POINT / max(self.images, 1)

    def firing_rate(self, layer: str) -> np.ndarray:
        return self.layers[layer].fires / max(self.images, 1)

    def class_means(self, layer: str) -> np.ndarray:
        """(C, L) mean peak per class label; NaN for a label with no image."""
        counts = self.class_counts.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.layers[layer].class_sum / FIXED_POINT / counts[None, :]

    def selectivity(self, layer: str) -> np.ndarray | None:
        """Class selectivity index (Morcos et al. 2018) per filter:
        ``(mu_max - mu_rest) / (mu_max + mu_rest)`` over the per-class mean
        peaks, mu_rest the mean of the other classes' means. None without at
        least two labelled classes; 0 for a filter silent on every class."""
        present = self.class_counts > 0
        if int(present.sum()) < 2:
            return None
        means = self.class_means(layer)[:, present]
        top = means.max(axis=1)
        rest = (means.sum(axis=1) - top) / (means.shape[1] - 1)
        total = top + rest
        with np.errstate(invalid="ignore", divide="ignore"):
            index = np.where(total > 0, (top - rest) / total, 0.0)
        return index

    def preferred_class(self, layer: str) -> list[str | None]:
        """The class with the highest mean peak per filter; None without a
        labelled class, and None for a filter silent on every image (every
        class mean 0: no class is preferred, argmax would name the first)."""
        present = self.class_counts > 0
        if not present.any():
            return [None] * self.layers[layer].filters
        names = [label for label, keep in zip(self.labels, present, strict=True) if keep]
        means = self.class_means(layer)[:, present]
        best = means.argmax(axis=1)
        return [names[i] if means[row, i] > 0 else None for row, i in enumerate(best)]


def empty_layer(filters: int, k: int, labels: int) -> LayerTop:
    return LayerTop(
        values=np.full((filters, k), EMPTY_VALUE, dtype=np.float32),
        images=np.full((filters, k), -1, dtype=np.int32),
        rows=np.full((filters, k), -1, dtype=np.int32),
        cols=np.full((filters, k), -1, dtype=np.int32),
        widths=np.zeros((filters, k), dtype=np.int32),
        heights=np.zeros((filters, k), dtype=np.int32),
        fires=np.zeros(filters, dtype=np.int64),
        mean_sum=np.zeros(filters, dtype=np.int64),
        peak_sum=np.zeros(filters, dtype=np.int64),
        class_sum=np.zeros((filters, labels), dtype=np.int64),
    )


def _remap(codes: np.ndarray, old: list[str], new_index: dict[str, int]) -> np.ndarray:
    """Image indices into ``old`` -> indices into the new (sorted) id table; -1 stays -1."""
    lookup = np.array([new_index[i] for i in old] + [-1], dtype=np.int32)
    return lookup[codes]  # -1 indexes the trailing -1


def _merge_top(a: LayerTop, b: LayerTop, a_codes: np.ndarray, b_codes: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Top-k of both lists under (value desc, image asc, row asc, col asc)."""
    values = np.concatenate([a.values, b.values], axis=1)
    codes = np.concatenate([a_codes, b_codes], axis=1)
    rows = np.concatenate([a.rows, b.rows], axis=1)
    cols = np.concatenate([a.cols, b.cols], axis=1)
    # Unused slots (-inf) sort last whatever their other keys.
    order = np.lexsort((cols, rows, codes, -values.astype(np.float64)), axis=-1)[:, :k]
    pick = lambda array: np.take_along_axis(array, order, axis=1)  # noqa: E731
    widths = np.concatenate([a.widths, b.widths], axis=1)
    heights = np.concatenate([a.heights, b.heights], axis=1)
    return {"values": pick(values), "images": pick(codes), "rows": pick(rows), "cols": pick(cols),
            "widths": pick(widths), "heights": pick(heights)}


def _widen_classes(class_sum: np.ndarray, old: list[str], new: list[str]) -> np.ndarray:
    out = np.zeros((class_sum.shape[0], len(new)), dtype=np.int64)
    position = {label: i for i, label in enumerate(new)}
    for j, label in enumerate(old):
        out[:, position[label]] = class_sum[:, j]
    return out


def merge(a: ScanResult, b: ScanResult) -> ScanResult:
    """The result of scanning both parts' images (disjoint image sets), exactly."""
    if (a.model, a.weights, a.k) != (b.model, b.weights, b.k) or list(a.layers) != list(b.layers):
        raise ValueError("scan results of different models, weights, k or layers cannot be merged")
    ids = sorted(set(a.image_ids) | set(b.image_ids))
    index = {image: i for i, image in enumerate(ids)}
    labels = sorted(set(a.labels) | set(b.labels))
    layers: dict[str, LayerTop] = {}
    for name, top_a in a.layers.items():
        top_b = b.layers[name]
        merged = _merge_top(top_a, top_b, _remap(top_a.images, a.image_ids, index),
                            _remap(top_b.images, b.image_ids, index), a.k)
        layers[name] = LayerTop(
            **merged,
            fires=top_a.fires + top_b.fires,
            mean_sum=top_a.mean_sum + top_b.mean_sum,
            peak_sum=top_a.peak_sum + top_b.peak_sum,
            class_sum=_widen_classes(top_a.class_sum, a.labels, labels)
            + _widen_classes(top_b.class_sum, b.labels, labels),
        )
    counts = (_widen_classes(a.class_counts[None, :], a.labels, labels)
              + _widen_classes(b.class_counts[None, :], b.labels, labels))[0]
    return _compact(ScanResult(model=a.model, weights=a.weights, k=a.k, layers=layers, image_ids=ids,
                               labels=labels, class_counts=counts, images=a.images + b.images,
                               extra={**b.extra, **a.extra}))


def _compact(result: ScanResult) -> ScanResult:
    """Drop ids no top-k slot refers to any more, keeping the table sorted."""
    used = np.unique(np.concatenate([top.images.ravel() for top in result.layers.values()] or [np.empty(0)]))
    used = used[used >= 0].astype(np.int64)
    if used.size == len(result.image_ids):
        return result
    lookup = np.full(len(result.image_ids) + 1, -1, dtype=np.int32)
    lookup[used] = np.arange(used.size, dtype=np.int32)
    for top in result.layers.values():
        top.images = lookup[top.images]
    result.image_ids = [result.image_ids[i] for i in used]
    return result


def empty_result(model: str, weights: str, k: int, filters: dict[str, int]) -> ScanResult:
    """The result of scanning no image (the identity of ``merge``)."""
    return ScanResult(model=model, weights=weights, k=k,
                      layers={name: empty_layer(count, k, 0) for name, count in filters.items()},
                      image_ids=[], labels=[], class_counts=np.zeros(0, dtype=np.int64))


def results_equal(a: ScanResult, b: ScanResult) -> bool:
    """Exact equality of everything a scan keeps (``extra`` aside)."""
    if (a.model, a.weights, a.k, a.images, a.image_ids, a.labels, list(a.layers)) != (
            b.model, b.weights, b.k, b.images, b.image_ids, b.labels, list(b.layers)):
        return False
    if not np.array_equal(a.class_counts, b.class_counts):
        return False
    return all(np.array_equal(getattr(a.layers[n], f), getattr(b.layers[n], f))
               for n in a.layers for f in LayerTop.ARRAYS)


# ---------------------------------------------------------------- bytes


def to_bytes(result: ScanResult) -> bytes:
    """npz: the metadata as JSON in a uint8 array, then plain numeric arrays."""
    meta = {"format": FORMAT, "model": result.model, "weights": result.weights, "k": result.k,
            "layers": list(result.layers), "image_ids": result.image_ids, "labels": result.labels,
            "images": result.images, "extra": result.extra}
    arrays: dict[str, np.ndarray] = {
        "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
        "class_counts": result.class_counts,
    }
    for i, top in enumerate(result.layers.values()):
        for name in LayerTop.ARRAYS:
            arrays[f"{i}.{name}"] = getattr(top, name)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, allow_pickle=False, **arrays)  # numbers only: nothing to unpickle
    return buffer.getvalue()


def from_bytes(blob: bytes) -> ScanResult:
    """Inverse of ``to_bytes``; raises ValueError on anything else (no pickle is ever loaded)."""
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            if meta.get("format") != FORMAT:
                raise ValueError(f"not a {FORMAT} blob")
            layers = {name: LayerTop(**{field_name: data[f"{i}.{field_name}"] for field_name in LayerTop.ARRAYS})
                      for i, name in enumerate(meta["layers"])}
            class_counts = data["class_counts"]
    except (OSError, KeyError, json.JSONDecodeError, UnicodeDecodeError, EOFError) as exc:
        raise ValueError(f"unreadable scan result: {exc}") from exc
    return ScanResult(model=meta["model"], weights=meta["weights"], k=int(meta["k"]), layers=layers,
                      image_ids=list(meta["image_ids"]), labels=list(meta["labels"]),
                      class_counts=class_counts, images=int(meta["images"]), extra=dict(meta.get("extra") or {}))
