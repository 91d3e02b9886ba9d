"""Stored images decoded for less than all their pixels: a part of one for
display (the crops), decoded at a reduced scale where the format allows it.

The header is read first (size and orientation, nothing decoded), so a
request for a part outside the image costs nothing; a JPEG is then decoded
by DCT scaling (Pillow's ``draft``) at up to 8x fewer pixels per side, no
smaller than what is shown. What comes out is not hash-verified (only full
decodes can be): it is for display, never for analysis.
"""

from __future__ import annotations

import io
import math
import warnings

from PIL import Image

from .decode import (
    _DECODE_SLOTS,
    ALLOWED_FORMATS,
    _corrupt,
    _exif_orientation,
    _normalize,
    _open_and_load,
    _too_many_pixels,
)
from .limits import DEFAULT_LIMITS, Limits

Box = tuple[int, int, int, int]
_SWAPPED = (5, 6, 7, 8)  # EXIF orientations that turn the picture a quarter


def stored_size(data: bytes, limits: Limits = DEFAULT_LIMITS) -> tuple[int, int]:
    """Width and height of the image in ``data`` as the app shows it (EXIF
    orientation applied), from its header alone."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS))
    except Exception as exc:  # whatever Pillow raises, the bytes are at fault
        raise _corrupt() from exc
    with image:
        width, height = image.size
        swapped = _exif_orientation(image) in _SWAPPED
    if width * height > limits.max_pixels:
        raise _too_many_pixels(width, height, limits)
    return (height, width) if swapped else (width, height)


def decode_region(data: bytes, box: Box, side: int, limits: Limits = DEFAULT_LIMITS) -> Image.Image:
    """The part ``box`` (x0, y0, x1, y1 in the shown image's pixels, inside
    it) of the image in ``data``, RGB, with at least ``side`` pixels on its
    longer side where the image has them."""
    width, height = stored_size(data, limits)
    x0, y0, x1, y1 = box
    reduce = max(1.0, max(x1 - x0, y1 - y0) / side)
    with _DECODE_SLOTS:
        image, format_name = _open_and_load(data, limits, formats=ALLOWED_FORMATS, reduce=reduce)
        try:
            rgb = _normalize(image, format_name)
        finally:
            image.close()
    fx, fy = width / rgb.width, height / rgb.height
    left, top = min(rgb.width - 1, math.floor(x0 / fx)), min(rgb.height - 1, math.floor(y0 / fy))
    right, bottom = max(left + 1, math.ceil(x1 / fx)), max(top + 1, math.ceil(y1 / fy))
    return rgb.crop((left, top, min(right, rgb.width), min(bottom, rgb.height)))


def decode_reduced(data: bytes, min_side: int, limits: Limits = DEFAULT_LIMITS) -> tuple[Image.Image, tuple[int, int]]:
    """The image in ``data`` made smaller while it is decoded, its shorter
    side no less than ``min_side`` (nor than it was), and its original (width,
    height). A JPEG is decoded reduced (DCT scaling); any other format is
    decoded whole and at once reduced by an integer factor (box filter), so
    only one full-size decode is ever held, never a batch of them."""
    width, height = stored_size(data, limits)
    factor = max(1.0, min(width, height) / min_side)
    with _DECODE_SLOTS:
        image, format_name = _open_and_load(data, limits, formats=ALLOWED_FORMATS, reduce=factor)
        try:
            whole = int(min(image.size) / min_side)
            if whole > 1 and image.mode in ("RGB", "RGBA", "L", "LA", "I", "F"):
                smaller = image.reduce(whole)  # keeps the file's info (EXIF orientation) for _normalize
                image.close()
                image = smaller
            rgb = _normalize(image, format_name)
        finally:
            image.close()
        whole = int(min(rgb.size) / min_side)  # a mode reduce() does not take (palette) is reduced now
        if whole > 1:
            rgb = rgb.reduce(whole)
    return rgb, (width, height)
