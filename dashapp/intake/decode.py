"""Bytes to a validated RGB image and the hash of its pixels.

The format is whatever Pillow sniffs from the bytes, restricted to the allowed
plugins; file names and Content-Type headers are never trusted. Sizes are
checked from the header before any pixel is decoded, so a tiny file that
declares a gigantic canvas costs nothing.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import ExifTags, Image

from ..i18n import N_, _, integer
from .errors import CorruptImage, EmptyInput, IntakeError, TooLarge, TooManyPixels, UnsupportedFormat
from .limits import DEFAULT_LIMITS, Limits, human_pixels, human_size

# Pillow format IDs, in the order they are tried when sniffing.
ALLOWED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "GIF", "BMP")
_ALLOWED_FOR_HUMANS = N_("JPEG, PNG, WebP, BMP or GIF")
# Pillow reports some JPEG files from cameras (with a multi-picture index) as MPO;
# for the user and for decoding they are JPEGs whose first picture we take.
_FORMAT_ALIASES = {"MPO": "JPEG"}

SHA_PATTERN = re.compile(r"[0-9a-f]{64}")

# Decoding a 40 MP image peaks at about 440 MB: a burst of large uploads must
# queue here instead of multiplying that. Two at a time per process.
MAX_CONCURRENT_DECODES = 2
_DECODE_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT_DECODES)


@dataclass(frozen=True, eq=False)
class AcceptedImage:
    sha256: str
    image: Image.Image
    width: int
    height: int
    source_format: str
    original: bytes = b""  # the validated bytes as received (empty when not kept)

    def stored_bytes(self) -> bytes:
        """What the durable store keeps: the smaller of the validated original
        and the normalized PNG. Either decodes (``decode_stored``) to the same
        pixels, which the SHA-256 names and every read verifies; a noisy JPEG
        stays a few MB instead of becoming a PNG ten times larger."""
        png = self.png_bytes()
        return self.original if self.original and len(self.original) < len(png) else png

    def png_bytes(self) -> bytes:
        """Lossless PNG of ``image``; what the durable store keeps. Level 1:
        about 4x faster than the default for a few percent more bytes."""
        buffer = io.BytesIO()
        self.image.save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()


def image_sha256(image: Image.Image) -> str:
    """Hash of the pixels and size of an RGB image, independent of any file encoding."""
    if image.mode != "RGB":
        raise ValueError(f"image_sha256 needs an RGB image, got mode {image.mode!r}")
    width, height = image.size
    digest = hashlib.sha256(f"{width}x{height}:".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()



def is_sha256(value: object) -> bool:
    """A 64-character lowercase hex string, nothing around it (not even a newline)."""
    return isinstance(value, str) and SHA_PATTERN.fullmatch(value) is not None


# --------------------------------------------------------------------------- decoding

# Magic numbers used only to word the refusal when Pillow's allowed plugins do not
# recognise the bytes: they never decide that something is acceptable.
_ALLOWED_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
)
_FOREIGN_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"II*\x00", N_("a TIFF image")),
    (b"MM\x00*", N_("a TIFF image")),
    (b"II+\x00", N_("a TIFF image")),
    (b"MM\x00+", N_("a TIFF image")),
    (b"\x00\x00\x01\x00", N_("an icon (ICO) file")),
    (b"\x00\x00\x02\x00", N_("a cursor (CUR) file")),
    (b"%PDF", N_("a PDF document")),
    (b"%!PS", N_("a PostScript document")),
    (b"8BPS", N_("a Photoshop (PSD) file")),
    (b"\x00\x00\x00\x0cjP  ", N_("a JPEG 2000 image")),
    (b"\xff\x4f\xff\x51", N_("a JPEG 2000 image")),
    (b"\xff\x0a", N_("a JPEG XL image")),
    (b"\x00\x00\x00\x0cJXL ", N_("a JPEG XL image")),
    (b"qoif", N_("a QOI image")),
    (b"PK\x03\x04", N_("a ZIP archive")),
    (b"\x1f\x8b", N_("a compressed (gzip) file")),
)


def _describe_foreign(data: bytes) -> str | None:
    """A plain-English guess of what unsupported bytes are, for the error message (a catalog entry)."""
    for magic, name in _ALLOWED_MAGIC:
        if data.startswith(magic):
            return name
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "WEBP"
    for magic, description in _FOREIGN_MAGIC:
        if data.startswith(magic):
            return description
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"avif", b"avis"):
            return N_("an AVIF image")
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1"):
            return N_("a HEIC/HEIF image")
        return N_("a video or other ISO media file")
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in head or (head.startswith(b"<?xml") and b"svg" in data[:4096].lower()):
        return N_("an SVG drawing")
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in head:
        return N_("a web page (HTML)")
    if head.startswith((b"<?xml", b"<")):
        return N_("an XML or HTML document")
    if head[:1] in (b"{", b"["):
        return N_("a JSON or text document")
    return None


def _unsupported(description: str | None) -> UnsupportedFormat:
    if description is None:
        return UnsupportedFormat(_("This file is not an image in a supported format. Please use a {formats} image.")
                                 .format(formats=_(_ALLOWED_FOR_HUMANS)))
    return UnsupportedFormat(_("This file looks like {description}, which is not supported. Please use a {formats} "
                               "image.").format(description=_(description), formats=_(_ALLOWED_FOR_HUMANS)))


def _corrupt(format_name: str | None = None) -> CorruptImage:
    if not format_name:
        return CorruptImage(_("The image could not be read: the file is damaged or incomplete. Please try another "
                              "copy of the image."))
    return CorruptImage(_("The {format} image could not be read: the file is damaged or incomplete. Please try "
                          "another copy of the image.").format(format=format_name))


def _too_many_pixels(width: int, height: int, limits: Limits) -> TooManyPixels:
    return TooManyPixels(_("The image is {width} x {height} pixels ({pixels}); the limit is {limit}. Please use a "
                           "smaller image.").format(width=integer(width), height=integer(height),
                                                    pixels=human_pixels(width * height),
                                                    limit=human_pixels(limits.max_pixels)))


def _bomb_refusal(limits: Limits) -> TooManyPixels:
    return TooManyPixels(_("The image declares a size far beyond what can be processed; the limit is {limit}. "
                           "Please use a smaller image.").format(limit=human_pixels(limits.max_pixels)))


def _check_dimensions(width: int, height: int, limits: Limits, format_name: str) -> None:
    if width <= 0 or height <= 0:
        raise CorruptImage(_("The {format} image has no pixels (it claims to be {width} x {height}). Please try "
                             "another image.").format(format=format_name, width=width, height=height))
    if width * height > limits.max_pixels:
        raise _too_many_pixels(width, height, limits)


def _check_tiles(image: Image.Image, limits: Limits, format_name: str) -> None:
    """Refuse decoder tiles (e.g. a GIF frame) larger than the pixel limit before they are decoded."""
    for tile in getattr(image, "tile", None) or ():
        extents = tile[1]
        if extents is None or len(extents) != 4:
            continue
        x0, y0, x1, y1 = extents
        width, height = x1 - x0, y1 - y0
        if width <= 0 or height <= 0:
            raise _corrupt(format_name)
        if width * height > limits.max_pixels:
            raise _too_many_pixels(width, height, limits)


def _open_and_load(data: bytes, limits: Limits, *, formats: tuple[str, ...],
                   reduce: float = 1.0) -> tuple[Image.Image, str]:
    """Sniff, check the header against the limits, then decode the first frame
    (a JPEG ``reduce`` times smaller or less, by DCT scaling, when asked)."""
    format_name: str | None = None
    # catch_warnings is process-wide in Python < 3.14; the worst a race between two threads
    # can do is leave DecompressionBombWarning escalated to an error, which errs on the
    # side of refusing. Our own pixel check below is the primary guard anyway.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            try:
                image = Image.open(io.BytesIO(data), formats=list(formats))
            except Image.UnidentifiedImageError:
                description = _describe_foreign(data)
                if description in formats:
                    # Starts like an allowed format but Pillow cannot parse its header.
                    raise _corrupt(description) from None
                raise _unsupported(None if description in ALLOWED_FORMATS else description) from None
            raw_format = image.format or ""
            format_name = _FORMAT_ALIASES.get(raw_format, raw_format)
            if format_name not in formats:
                raise _unsupported(_describe_foreign(data))
            width, height = image.size
            _check_dimensions(width, height, limits, format_name)
            _check_tiles(image, limits, format_name)
            if reduce > 1 and format_name == "JPEG":
                image.draft(image.mode, (max(1, int(width / reduce)), max(1, int(height / reduce))))
            image.load()
            # A plugin may adjust the canvas while decoding; check again what we now hold.
            _check_dimensions(image.size[0], image.size[1], limits, format_name)
        except IntakeError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _bomb_refusal(limits) from None
        except Exception as exc:  # any decoder failure, whatever Pillow raises, is the file's fault
            raise _corrupt(format_name) from exc
    return image, format_name


# Same table as PIL.ImageOps.exif_transpose; applied by hand so that broken EXIF can only
# ever cost the rotation, never the image.
_ORIENTATION_TRANSPOSE: dict[int, tuple[Image.Transpose, ...]] = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}


def _exif_orientation(image: Image.Image) -> int:
    try:
        with warnings.catch_warnings():
            # Pillow warns about odd EXIF; that is not the user's concern.
            warnings.simplefilter("ignore")
            value = image.getexif().get(ExifTags.Base.Orientation, 1)
        return int(value) if isinstance(value, int) else 1
    except Exception:  # unreadable EXIF means "no rotation", never a refusal
        return 1


def _scale_to_uint8(values: np.ndarray, *, full_scale: float | None) -> np.ndarray:
    """Map integer or float samples to 0..255 without clipping the bright end away."""
    values = values.astype(np.float64, copy=False)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(values.shape, dtype=np.uint8)
    low, high = float(finite.min()), float(finite.max())
    if full_scale is not None and low >= 0 and high <= full_scale:
        scaled = values * (255.0 / full_scale)
    elif high > low:
        # Unknown range (negative or huge values): stretch what is actually there.
        scaled = (values - low) * (255.0 / (high - low))
    else:
        scaled = np.zeros(values.shape, dtype=np.float64)
    scaled = np.nan_to_num(scaled, nan=0.0, posinf=255.0, neginf=0.0)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _has_transparency(image: Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        return True
    return image.mode in ("P", "L", "RGB", "1") and "transparency" in image.info


def _to_rgb(image: Image.Image) -> Image.Image:
    """Every Pillow mode to 8-bit RGB; transparent areas become white."""
    mode = image.mode
    if mode == "RGB" and "transparency" not in image.info:
        return image.copy()
    if mode.startswith("I;16") or mode == "I":
        samples = np.asarray(image)
        # 16-bit files use the whole 0..65535 range; dividing by 257 keeps mid-grey mid-grey.
        full_scale = 65535.0 if mode.startswith("I;16") or samples.max(initial=0) > 255 else 255.0
        return Image.fromarray(_scale_to_uint8(samples, full_scale=full_scale), mode="L").convert("RGB")
    if mode == "F":
        samples = np.asarray(image)
        finite = samples[np.isfinite(samples)]
        full_scale = 1.0 if finite.size and finite.max() <= 1.0 else 255.0
        return Image.fromarray(_scale_to_uint8(samples, full_scale=full_scale), mode="L").convert("RGB")
    if _has_transparency(image):
        if mode == "La":
            # Pillow converts premultiplied La only to LA.
            image = image.convert("LA")
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    try:
        return image.convert("RGB")
    except ValueError:
        # Modes without a converter to RGB (LAB, HSV): read the first three bands as RGB.
        bands = image.split()
        if len(bands) < 3:
            raise
        return Image.merge("RGB", [band.convert("L") for band in bands[:3]])


def _normalize(image: Image.Image, format_name: str, *, apply_orientation: bool = True) -> Image.Image:
    orientation = _exif_orientation(image) if apply_orientation else 1
    try:
        rgb = _to_rgb(image)
        for method in _ORIENTATION_TRANSPOSE.get(orientation, ()):
            rgb = rgb.transpose(method)
    except Exception as exc:  # an exotic mode we cannot convert is a bad file
        raise _corrupt(format_name) from exc
    # Drop EXIF/ICC/text metadata: the orientation is now baked into the pixels and a stale
    # EXIF orientation must never travel on into the stored PNG.
    rgb.info = {}
    return rgb


def accept_bytes(data: bytes, limits: Limits = DEFAULT_LIMITS) -> AcceptedImage:
    """Check and decode uploaded bytes; raise an ``IntakeError`` subclass for anything unusable.

    ``None`` counts as empty; objects that are not bytes-like are a programming error
    (``TypeError``).
    """
    if data is None:
        raise EmptyInput(_("No image was received. Please choose an image file."))
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise TypeError(f"accept_bytes needs bytes, got {type(data).__name__}")
    if not data:
        raise EmptyInput(_("The file is empty. Please choose an image file."))
    if len(data) > limits.max_bytes:
        raise TooLarge(_("The file is {size}; the limit is {limit}.").format(size=human_size(len(data)),
                                                                            limit=human_size(limits.max_bytes)))

    with _DECODE_SLOTS:
        image, format_name = _open_and_load(data, limits, formats=ALLOWED_FORMATS)
        try:
            rgb = _normalize(image, format_name)
        finally:
            image.close()
    width, height = rgb.size
    return AcceptedImage(
        sha256=image_sha256(rgb),
        image=rgb,
        width=width,
        height=height,
        source_format=format_name,
        original=data,
    )


def decode_stored(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Image.Image:
    """Decode what the store kept (``AcceptedImage.stored_bytes``: an original
    upload or our PNG) to the same RGB pixels ``accept_bytes`` produced.

    No byte limit (it was checked on the way in), but the pixel limit still
    holds so a tampered store cannot exhaust memory. Callers verify the hash.
    """
    if not data:
        raise EmptyInput(_("The stored image is empty."))
    with _DECODE_SLOTS:
        image, format_name = _open_and_load(bytes(data), limits, formats=ALLOWED_FORMATS)
        try:
            return _normalize(image, format_name)
        finally:
            image.close()


def decode_stored_png(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Image.Image:
    """Decode a PNG this module wrote (``AcceptedImage.png_bytes``) back to RGB.

    No byte limit (a lossless PNG can be larger than the upload it came from), but
    the pixel limit still holds so a tampered store cannot exhaust memory.
    """
    if not data:
        raise EmptyInput(_("The stored image is empty."))
    image, _format = _open_and_load(bytes(data), limits, formats=("PNG",))
    try:
        return _normalize(image, "PNG", apply_orientation=False)
    finally:
        image.close()

