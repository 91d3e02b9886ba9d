"""Scan a collection: every filter of every conv layer over many images,
streaming, in batched forward passes.

Responses are the single-image path's (``capture``: the same preprocessing,
the same norm + activation + ReLU definition); each batch is reduced in the
hooks to per (image, filter) peak, peak position and mean, and merged into a
``ScanResult`` whose size is layers x filters x k whatever the number of
images (see ``scan_result`` for the exact merge and the tie rule).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from dashapp.analysis.maps.stats import MIN_RELATIVE_PEAK
from dashapp.analysis.models.capture import capture_batch, preprocess_batch
from dashapp.analysis.models.registry import LayerInfo, LoadedModel
from dashapp.analysis.scan.result import LayerTop, ScanResult, empty_result, merge, to_fixed

DEFAULT_K = 16
DEFAULT_BATCH = 32
DEFAULT_BATCH_PIXELS = 48_000_000  # decoded pixels a batch may hold (144 MB of RGB)

ProgressFn = Callable[[int], None]  # images done so far


class ScanCancelled(Exception):
    """The scan was asked to stop between two batches."""


@dataclass(frozen=True)
class ScanItem:
    image_id: str  # the image's SHA-256 (its id in the image store)
    image: Image.Image
    label: str | None = None
    size: tuple[int, int] | None = None  # the original's (width, height) when ``image`` is a reduced copy

    @property
    def original_size(self) -> tuple[int, int]:
        """What boxes are measured in: the original image's pixels."""
        return self.size or self.image.size


@dataclass(frozen=True)
class TopExample:
    image: str
    value: float
    row: int
    col: int
    box: tuple[float, float, float, float]  # (x0, y0, x1, y1) in the image's original pixels, clipped

    def as_dict(self) -> dict[str, object]:
        return {"image": self.image, "value": self.value, "row": self.row, "col": self.col,
                "box": [round(v, 2) for v in self.box]}


@dataclass(frozen=True)
class _Reduced:
    peaks: np.ndarray  # float32 (B, C)
    positions: np.ndarray  # int64 (B, C) flat index of the first maximal cell
    means: np.ndarray  # float32 (B, C)
    width: int  # map width, to split positions into (row, col)


def _reduce(_name: str, maps: torch.Tensor) -> _Reduced:
    flat = maps.flatten(2).float()
    # torch.max over a dim returns the first maximal index: the lowest
    # (row, col) in row-major order, the position part of the tie rule.
    peaks, positions = flat.max(dim=2)
    means = flat.mean(dim=2)
    return _Reduced(peaks.cpu().numpy(), positions.cpu().numpy(), means.cpu().numpy(), int(maps.shape[-1]))


def _batch_layer(reduced: _Reduced, order: np.ndarray, sizes: np.ndarray, label_codes: np.ndarray,
                 labels: int) -> LayerTop:
    """A LayerTop of one batch: every image is one candidate per filter."""
    peaks = reduced.peaks
    strongest = peaks.max(axis=1, keepdims=True)
    # The ranking's rule (stats.responds), per image: the filter's peak
    # reaches a twentieth of the layer's strongest peak on that image.
    fires = (peaks > 0) & (peaks >= MIN_RELATIVE_PEAK * strongest)
    fixed = to_fixed(peaks)
    class_sum = np.zeros((peaks.shape[1], labels), dtype=np.int64)
    for j in range(labels):
        class_sum[:, j] = fixed[label_codes == j].sum(axis=0)
    count = peaks.shape[1]
    return LayerTop(
        values=np.ascontiguousarray(peaks.T, dtype=np.float32),
        images=np.broadcast_to(order[None, :], (count, order.size)).astype(np.int32),
        rows=(reduced.positions // reduced.width).T.astype(np.int32),
        cols=(reduced.positions % reduced.width).T.astype(np.int32),
        widths=np.broadcast_to(sizes[None, :, 0], (count, order.size)).astype(np.int32),
        heights=np.broadcast_to(sizes[None, :, 1], (count, order.size)).astype(np.int32),
        fires=fires.sum(axis=0).astype(np.int64),
        mean_sum=to_fixed(reduced.means).sum(axis=0),
        peak_sum=fixed.sum(axis=0),
        class_sum=class_sum,
    )


def scan_batch(loaded: LoadedModel, items: list[ScanItem], k: int = DEFAULT_K) -> ScanResult:
    """The ScanResult of one batch of images (one forward pass)."""
    reduced = capture_batch(loaded, preprocess_batch(loaded, [item.image for item in items]), _reduce)
    ids = sorted({item.image_id for item in items})
    if len(ids) != len(items):
        raise ValueError("a scan batch holds the same image twice")
    position = {image: i for i, image in enumerate(ids)}
    order = np.array([position[item.image_id] for item in items], dtype=np.int32)
    sizes = np.array([item.original_size for item in items], dtype=np.int32).reshape(-1, 2)
    labels = sorted({item.label for item in items if item.label is not None})
    label_index = {label: j for j, label in enumerate(labels)}
    label_codes = np.array([label_index.get(item.label, -1) if item.label is not None else -1 for item in items])
    counts = np.array([int((label_codes == j).sum()) for j in range(len(labels))], dtype=np.int64)
    layers = {name: _batch_layer(reduced[name], order, sizes, label_codes, len(labels)) for name in loaded.layers}
    return ScanResult(model=loaded.name, weights=loaded.weights.tag, k=k, layers=layers, image_ids=ids,
                      labels=labels, class_counts=counts, images=len(items))


def batches(items: Iterable[ScanItem], size: int, max_pixels: int | None = None) -> Iterator[list[ScanItem]]:
    """``size`` items at a time, fewer when their pixels would pass ``max_pixels``
    (a batch's memory is its pixels, not its count)."""
    batch: list[ScanItem] = []
    pixels = 0
    for item in items:
        held = item.image.width * item.image.height
        if batch and max_pixels is not None and pixels + held > max_pixels:
            yield batch
            batch, pixels = [], 0
        batch.append(item)
        pixels += held
        if len(batch) == size:
            yield batch
            batch, pixels = [], 0
    if batch:
        yield batch


def scan(
    loaded: LoadedModel,
    items: Iterable[ScanItem],
    batch_size: int = DEFAULT_BATCH,
    k: int = DEFAULT_K,
    progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    batch_pixels: int | None = DEFAULT_BATCH_PIXELS,
) -> ScanResult:
    """Stream ``items`` through the model ``batch_size`` at a time (fewer
    where they hold more than ``batch_pixels``).

    Only one batch of images is held at a time (``items`` may be a lazy
    generator reading from the image store). ``should_stop`` is asked
    before every batch; a True answer raises ``ScanCancelled``.
    """
    if batch_size < 1 or k < 1:
        raise ValueError("batch_size and k must be positive")
    result = empty_result(loaded.name, loaded.weights.tag, k,
                          {name: info.out_channels for name, info in loaded.layers.items()})
    done = 0
    for batch in batches(items, batch_size, batch_pixels):
        if should_stop is not None and should_stop():
            raise ScanCancelled()
        result = merge(result, scan_batch(loaded, batch, k))
        done += len(batch)
        if progress is not None:
            progress(done)
    return result


def top_examples(result: ScanResult, info: LayerInfo, input_size: int, filter_index: int,
                 k: int | None = None) -> list[TopExample]:
    """The filter's top images, highest first, each with its receptive-field
    box in that image's original pixels (the box at the model input, scaled
    by the image's size over the input size per axis, clipped)."""
    top = result.layers[info.name]
    if not 0 <= filter_index < top.filters:
        raise IndexError(f"{info.name} has {top.filters} filters; no filter {filter_index}")
    limit = result.k if k is None else max(0, min(int(k), result.k))
    examples = []
    for slot in range(limit):
        image = int(top.images[filter_index, slot])
        if image < 0:
            break
        row, col = int(top.rows[filter_index, slot]), int(top.cols[filter_index, slot])
        width, height = int(top.widths[filter_index, slot]), int(top.heights[filter_index, slot])
        x0, y0, x1, y1 = info.receptive_field.box(row, col)
        sx, sy = width / input_size, height / input_size
        box = (max(0.0, x0 * sx), max(0.0, y0 * sy), min(float(width), x1 * sx), min(float(height), y1 * sy))
        examples.append(TopExample(result.image_ids[image], float(top.values[filter_index, slot]), row, col, box))
    return examples
