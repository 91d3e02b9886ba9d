"""Activation regions of one filter map, in original image pixels (DESIGN.md).

The map is upsampled to (a bounded working copy of) the image, thresholded
once, and split into 8-connected components. The same threshold serves the
drawn boxes, the text and the patches.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

THRESHOLD_RATIO = 0.5  # of the map's peak
MAX_REGIONS = 9
WORK_SIDE = 512  # longest side of the working grid; boxes are scaled back to the image
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
        return asdict(self)


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


def working_shape(image_width: int, image_height: int, work_side: int = WORK_SIDE) -> tuple[int, int]:
    """(height, width) of the grid regions are computed on: the image's aspect, at most ``work_side``."""
    scale = min(1.0, work_side / max(image_width, image_height))
    return max(1, round(image_height * scale)), max(1, round(image_width * scale))


def upsample(fmap: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear, half-pixel aligned: map cell centres land on the image points they describe."""
    tensor = torch.from_numpy(np.ascontiguousarray(fmap, dtype=np.float32))[None, None]
    return F.interpolate(tensor, size=(height, width), mode="bilinear", align_corners=False)[0, 0].numpy()


def find_regions(
    fmap: np.ndarray,
    image_width: int,
    image_height: int,
    threshold_ratio: float = THRESHOLD_RATIO,
    max_regions: int = MAX_REGIONS,
) -> RegionResult:
    peak = float(fmap.max()) if fmap.size else 0.0
    if peak <= 0:
        return RegionResult(threshold=0.0, regions=[])
    threshold = threshold_ratio * peak
    work_h, work_w = working_shape(image_width, image_height)
    dense = upsample(fmap, work_h, work_w)
    labels, count = ndimage.label(dense >= threshold, structure=np.ones((3, 3), dtype=bool))
    if count == 0:
        return RegionResult(threshold=threshold, regions=[])
    index = np.arange(1, count + 1)
    areas = ndimage.sum_labels(np.ones_like(dense), labels, index)
    means = ndimage.mean(dense, labels, index)
    peaks = ndimage.maximum(dense, labels, index)
    slices = ndimage.find_objects(labels)
    sx, sy = image_width / work_w, image_height / work_h
    total = float(work_h * work_w)
    candidates = []
    for k, sl in enumerate(slices):
        area_fraction = float(areas[k]) / total
        # Interest = intensity x selectivity: strong and small ranks first.
        interest = (float(means[k]) / peak) * (1.0 - area_fraction)
        ys, xs = sl
        box = (
            int(np.floor(xs.start * sx)),
            int(np.floor(ys.start * sy)),
            min(image_width, int(np.ceil(xs.stop * sx))),
            min(image_height, int(np.ceil(ys.stop * sy))),
        )
        candidates.append((interest, box, float(peaks[k]), float(means[k]), area_fraction))
    candidates.sort(key=lambda c: -c[0])
    regions = [
        Region(
            number=number,
            x0=box[0],
            y0=box[1],
            x1=box[2],
            y1=box[3],
            peak=peak_value,
            mean=mean_value,
            area_fraction=area_fraction,
            size_class=size_class(area_fraction),
            interest=interest,
        )
        for number, (interest, box, peak_value, mean_value, area_fraction) in enumerate(
            candidates[:max_regions], start=1
        )
    ]
    return RegionResult(threshold=threshold, regions=regions)
