"""Activation regions of one filter map, in original image pixels (docs/definitions.md).

The map is interpolated onto (a bounded working copy of) the image at the
cells' true places (``geometry.py``: cell centres from the receptive field,
the outermost cell's value held beyond the outermost centres), thresholded
once, and split into 8-connected components. The same threshold serves the
drawn boxes, the text and the patches.

A region's peak is its largest cell value, the map's own number (``cell_peaks``).
Interest = region peak / map peak × (1 − area fraction): a small region that
holds the map's strongest response comes before a broad plateau ("small,
strong regions first"). The region's mean is reported but not ranked on: a
broad plateau can have a high mean while the filter's real peak sits in a
small spot.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy import ndimage

from dashapp.analysis.maps.geometry import MapGeometry, evenly_spread, sample_map

THRESHOLD_RATIO = 0.5  # of the map's peak
MAX_REGIONS = 9
# Longest side of the working grid (boxes are scaled back to the image): four
# grid cells per map cell is finer than a bilinear map can say, within bounds.
MIN_WORK_SIDE, MAX_WORK_SIDE = 256, 512
CELLS_PER_MAP_CELL = 4
SIZE_CLASSES = ((0.05, "small"), (0.15, "medium"), (0.30, "large"), (float("inf"), "very large"))


@dataclass(frozen=True)
class Region:
    number: int  # 1 = most interesting
    x0: int
    y0: int
    x1: int  # exclusive
    y1: int  # exclusive
    peak: float
    mean: float
    area_fraction: float
    size_class: str
    interest: float

    def as_dict(self) -> dict[str, object]:
        # Not dataclasses.asdict: it deep-copies, and answers carry many regions.
        return {name: getattr(self, name) for name in REGION_FIELDS}


REGION_FIELDS = tuple(f.name for f in fields(Region))


@dataclass(frozen=True)
class RegionResult:
    threshold: float
    regions: list[Region]

    def as_dict(self) -> dict[str, object]:
        return {"threshold": self.threshold, "regions": [r.as_dict() for r in self.regions]}


def size_class(area_fraction: float) -> str:
    for bound, name in SIZE_CLASSES:
        if area_fraction < bound:
            return name
    return SIZE_CLASSES[-1][1]


def working_shape(image_width: int, image_height: int, work_side: int = MAX_WORK_SIDE) -> tuple[int, int]:
    """(height, width) of the grid regions are computed on: the image's aspect, at most ``work_side``."""
    scale = min(1.0, work_side / max(image_width, image_height))
    return max(1, round(image_height * scale)), max(1, round(image_width * scale))


def cell_peaks(fmap: np.ndarray, geometry: MapGeometry, labels: np.ndarray, count: int, image_width: int,
               image_height: int, fallback: np.ndarray) -> np.ndarray:
    """Each region's peak: the largest value of the map's own cells whose
    centre (its nearest working-grid pixel, the image's edge for a centre
    beyond it) lies in the region, not the resampled grid's maximum, which
    falls between cells and reads lower; ``fallback`` for a region that holds
    no cell centre."""
    work_h, work_w = labels.shape
    rows, cols = fmap.shape
    xs = np.floor((geometry.x0 + np.arange(cols) * geometry.dx) * work_w / image_width).astype(np.int64)
    ys = np.floor((geometry.y0 + np.arange(rows) * geometry.dy) * work_h / image_height).astype(np.int64)
    owner = labels[np.ix_(np.clip(ys, 0, work_h - 1), np.clip(xs, 0, work_w - 1))]
    inside = owner > 0
    best = np.full(count, -np.inf)
    np.maximum.at(best, owner[inside] - 1, fmap[inside].astype(np.float64))
    return np.where(np.isfinite(best), best, fallback)


def find_regions(
    fmap: np.ndarray,
    image_width: int,
    image_height: int,
    threshold_ratio: float = THRESHOLD_RATIO,
    max_regions: int = MAX_REGIONS,
    geometry: MapGeometry | None = None,
) -> RegionResult:
    """Regions of ``fmap`` over an ``image_width × image_height`` image.
    ``geometry`` places the cells (``map_geometry`` of the layer); without
    it the map is taken as the image's own evenly spread grid."""
    if geometry is None:
        geometry = evenly_spread(fmap.shape[0], fmap.shape[1], image_width, image_height)
    peak = float(fmap.max()) if fmap.size else 0.0
    if peak <= 0:
        return RegionResult(threshold=0.0, regions=[])
    threshold = threshold_ratio * peak
    side = min(MAX_WORK_SIDE, max(MIN_WORK_SIDE, CELLS_PER_MAP_CELL * max(fmap.shape)))
    work_h, work_w = working_shape(image_width, image_height, side)
    dense = sample_map(fmap, geometry, image_width, image_height, work_w, work_h)
    labels, count = ndimage.label(dense >= threshold, structure=np.ones((3, 3), dtype=bool))
    if count == 0:
        return RegionResult(threshold=threshold, regions=[])
    flat_labels = labels.ravel()
    areas = np.bincount(flat_labels, minlength=count + 1)[1:].astype(np.float64)
    sums = np.bincount(flat_labels, weights=dense.ravel(), minlength=count + 1)[1:]
    means = sums / areas
    slices = ndimage.find_objects(labels)
    # The resampled grid's maximum per region (ndimage.maximum with an index is ~15x slower here): the
    # peak only of a region that holds no cell centre; otherwise its largest cell value (``cell_peaks``).
    resampled = np.array([dense[box][labels[box] == k + 1].max() for k, box in enumerate(slices)], dtype=np.float64)
    peaks = cell_peaks(fmap, geometry, labels, count, image_width, image_height, resampled)
    area_fractions = areas / float(work_h * work_w)
    # Interest = intensity x selectivity, intensity being the region's peak:
    # strong and small ranks first (module docstring).
    interests = (peaks / peak) * (1.0 - area_fractions)
    best = np.argsort(-interests, kind="stable")[:max_regions]
    sx, sy = image_width / work_w, image_height / work_h
    regions = []
    for number, k in enumerate(best, start=1):
        ys, xs = slices[k]
        regions.append(
            Region(
                number=number,
                x0=int(np.floor(xs.start * sx)),
                y0=int(np.floor(ys.start * sy)),
                x1=min(image_width, int(np.ceil(xs.stop * sx))),
                y1=min(image_height, int(np.ceil(ys.stop * sy))),
                peak=float(peaks[k]),
                mean=float(means[k]),
                area_fraction=float(area_fractions[k]),
                size_class=size_class(float(area_fractions[k])),
                interest=float(interests[k]),
            )
        )
    return RegionResult(threshold=threshold, regions=regions)
