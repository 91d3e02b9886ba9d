"""Every check an image goes through before the app touches it.

Uploads (``accept_bytes``) and web addresses (``accept_url``) end in the same
``AcceptedImage``: an RGB picture with EXIF orientation applied, plus a content
hash of its pixels. Anything the app cannot or should not process is refused
with an ``IntakeError`` whose message is meant to be shown to the user as is
and whose ``status`` is the HTTP status the API answers with.

Only the standard library, Pillow and numpy are used so the module can be
reused by the web layer, the workers and the tests alike.

Design choices worth knowing:

* The format is whatever Pillow sniffs from the bytes, restricted to the
  allowed plugins; file names and Content-Type headers are never trusted.
* Sizes are checked from the header before any pixel is decoded, so a tiny
  file that declares a gigantic canvas costs nothing.
* URLs with a user name or password (``http://user:pw@host/``) are refused:
  they are a classic way to disguise the real host and the app has no
  business forwarding credentials.
* The fetcher resolves the host once, checks every resolved address, and
  then connects to one of exactly those addresses, so a DNS answer that
  changes between the check and the connection (DNS rebinding) cannot reach
  an internal service. Proxies from the environment are never used.
"""

from __future__ import annotations

import contextlib
import hashlib
import http
import http.client
import io
import ipaddress
import socket
import ssl
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import quote, urljoin, urlsplit

import numpy as np
from PIL import ExifTags, Image

__all__ = [
    "ALLOWED_FORMATS",
    "DEFAULT_POLICY",
    "AcceptedImage",
    "AddressPolicy",
    "CorruptImage",
    "EmptyInput",
    "FetchFailed",
    "IntakeError",
    "Limits",
    "TooLarge",
    "TooManyPixels",
    "UnsupportedFormat",
    "UrlRefused",
    "accept_bytes",
    "accept_url",
    "decode_stored_png",
    "fetch_url",
    "image_sha256",
]

# Pillow format IDs, in the order they are tried when sniffing.
ALLOWED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "GIF", "BMP")
_ALLOWED_FOR_HUMANS = "JPEG, PNG, WebP, BMP or GIF"
# Pillow reports some JPEG files from cameras (with a multi-picture index) as MPO;
# for the user and for decoding they are JPEGs whose first picture we take.
_FORMAT_ALIASES = {"MPO": "JPEG"}

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_MAX_URL_LENGTH = 8192
_READ_CHUNK = 64 * 1024
_USER_AGENT = "CNN-Activation-Analyzer/1.0 (image fetch)"


# --------------------------------------------------------------------------- errors


class IntakeError(Exception):
    """An input the app refuses; ``message`` is written for the person who sent it."""

    status: int = 400
    code: str = "invalid_image"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class EmptyInput(IntakeError):
    status = 400
    code = "empty"


class TooLarge(IntakeError):
    status = 413
    code = "too_large"


class TooManyPixels(IntakeError):
    status = 413
    code = "too_many_pixels"


class UnsupportedFormat(IntakeError):
    status = 415
    code = "unsupported_format"


class CorruptImage(IntakeError):
    status = 400
    code = "corrupt_image"


class UrlRefused(IntakeError):
    status = 400
    code = "url_refused"


class FetchFailed(IntakeError):
    status = 422
    code = "fetch_failed"


# --------------------------------------------------------------------------- limits


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 40_000_000
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 20.0
    max_redirects: int = 5

    def __post_init__(self) -> None:
        # A zero or negative limit would silently refuse (or accept) everything.
        for name in ("max_bytes", "max_pixels", "connect_timeout", "read_timeout", "total_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"Limits.{name} must be positive, got {getattr(self, name)!r}")
        if self.max_redirects < 0:
            raise ValueError(f"Limits.max_redirects must be >= 0, got {self.max_redirects!r}")

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        """Limits from a ``dashapp.settings.Settings`` (or anything with the same fields)."""
        return cls(
            max_bytes=int(settings.max_upload_bytes),
            max_pixels=int(settings.max_pixels),
            connect_timeout=float(settings.url_connect_timeout_s),
            read_timeout=float(settings.url_read_timeout_s),
            total_timeout=float(settings.url_total_timeout_s),
        )


def _human_size(n: int) -> str:
    if n >= 1024 * 1024:
        value = n / (1024 * 1024)
        unit = "MB"
    elif n >= 1024:
        value = n / 1024
        unit = "KB"
    else:
        return f"{n:,} bytes" if n != 1 else "1 byte"
    text = f"{value:.0f}" if value == int(value) else f"{value:.1f}"
    return f"{text} {unit}"


def _human_pixels(n: int) -> str:
    if n >= 1_000_000:
        value = n / 1_000_000
        text = f"{value:.0f}" if value == int(value) else f"{value:.1f}"
        return f"{text} megapixels"
    return f"{n:,} pixels"


# --------------------------------------------------------------------------- accepted image


@dataclass(frozen=True, eq=False)
class AcceptedImage:
    sha256: str
    image: Image.Image
    width: int
    height: int
    source_format: str

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
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"II+\x00", "a TIFF image"),
    (b"MM\x00+", "a TIFF image"),
    (b"\x00\x00\x01\x00", "an icon (ICO) file"),
    (b"\x00\x00\x02\x00", "a cursor (CUR) file"),
    (b"%PDF", "a PDF document"),
    (b"%!PS", "a PostScript document"),
    (b"8BPS", "a Photoshop (PSD) file"),
    (b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 image"),
    (b"\xff\x4f\xff\x51", "a JPEG 2000 image"),
    (b"\xff\x0a", "a JPEG XL image"),
    (b"\x00\x00\x00\x0cJXL ", "a JPEG XL image"),
    (b"qoif", "a QOI image"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a compressed (gzip) file"),
)


def _describe_foreign(data: bytes) -> str | None:
    """A plain-English guess of what unsupported bytes are, for the error message."""
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
            return "an AVIF image"
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1"):
            return "a HEIC/HEIF image"
        return "a video or other ISO media file"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in head or (head.startswith(b"<?xml") and b"svg" in data[:4096].lower()):
        return "an SVG drawing"
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in head:
        return "a web page (HTML)"
    if head.startswith((b"<?xml", b"<")):
        return "an XML or HTML document"
    if head[:1] in (b"{", b"["):
        return "a JSON or text document"
    return None


def _unsupported(description: str | None) -> UnsupportedFormat:
    if description is None:
        return UnsupportedFormat(
            f"This file is not an image in a supported format. Please use a {_ALLOWED_FOR_HUMANS} image."
        )
    return UnsupportedFormat(
        f"This file looks like {description}, which is not supported. Please use a {_ALLOWED_FOR_HUMANS} image."
    )


def _corrupt(format_name: str | None = None) -> CorruptImage:
    kind = f"{format_name} image" if format_name else "image"
    return CorruptImage(
        f"The {kind} could not be read: the file is damaged or incomplete. Please try another copy of the image."
    )


def _too_many_pixels(width: int, height: int, limits: Limits) -> TooManyPixels:
    return TooManyPixels(
        f"The image is {width:,} x {height:,} pixels ({_human_pixels(width * height)}); "
        f"the limit is {_human_pixels(limits.max_pixels)}. Please use a smaller image."
    )


def _bomb_refusal(limits: Limits) -> TooManyPixels:
    return TooManyPixels(
        "The image declares a size far beyond what can be processed; "
        f"the limit is {_human_pixels(limits.max_pixels)}. Please use a smaller image."
    )


def _check_dimensions(width: int, height: int, limits: Limits, format_name: str) -> None:
    if width <= 0 or height <= 0:
        raise CorruptImage(
            f"The {format_name} image has no pixels (it claims to be {width} x {height}). Please try another image."
        )
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


def _open_and_load(data: bytes, limits: Limits, *, formats: tuple[str, ...]) -> tuple[Image.Image, str]:
    """Sniff, check the header against the limits, then decode the first frame."""
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


def accept_bytes(data: bytes, limits: Limits = Limits()) -> AcceptedImage:
    """Check and decode uploaded bytes; raise an ``IntakeError`` subclass for anything unusable.

    ``None`` counts as empty; objects that are not bytes-like are a programming error
    (``TypeError``).
    """
    if data is None:
        raise EmptyInput("No image was received. Please choose an image file.")
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise TypeError(f"accept_bytes needs bytes, got {type(data).__name__}")
    if not data:
        raise EmptyInput("The file is empty. Please choose an image file.")
    if len(data) > limits.max_bytes:
        raise TooLarge(f"The file is {_human_size(len(data))}; the limit is {_human_size(limits.max_bytes)}.")

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
    )


def decode_stored_png(data: bytes, limits: Limits = Limits()) -> Image.Image:
    """Decode a PNG this module wrote (``AcceptedImage.png_bytes``) back to RGB.

    No byte limit (a lossless PNG can be larger than the upload it came from), but
    the pixel limit still holds so a tampered store cannot exhaust memory.
    """
    if not data:
        raise EmptyInput("The stored image is empty.")
    image, _ = _open_and_load(bytes(data), limits, formats=("PNG",))
    try:
        return _normalize(image, "PNG", apply_orientation=False)
    finally:
        image.close()


# --------------------------------------------------------------------------- address policy

_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
_NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class AddressPolicy:
    """Which resolved IP addresses the fetcher may connect to: public unicast only."""

    allow_loopback: bool = False  # tests only: lets end-to-end tests use 127.0.0.1 servers

    def refusal(self, address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        """``None`` when ``address`` may be contacted, else a plain-English reason."""
        try:
            ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        except ValueError:
            return "not a valid network address"
        return self._refuse_ip(ip)

    def _refuse_ip(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        if isinstance(ip, ipaddress.IPv6Address):
            if ip.ipv4_mapped is not None:
                # The kernel connects ::ffff:a.b.c.d to a.b.c.d itself: judge exactly that.
                return self._refuse_ip(ip.ipv4_mapped)
            # Addresses that carry an IPv4 address inside are judged by that address too,
            # otherwise 2002:7f00:1:: (6to4) or a NAT64 address would tunnel to a forbidden host.
            for embedded in self._embedded_ipv4(ip):
                reason = self._refuse_ip(embedded)
                if reason is not None:
                    return reason
        if ip.is_loopback:
            return None if self.allow_loopback else "a loopback address (this machine itself)"
        if ip.is_unspecified:
            return "an unspecified address (0.0.0.0 or ::)"
        if ip.is_link_local:
            return "a link-local address (such as a cloud metadata service)"
        if ip.is_multicast:
            return "a multicast address"
        if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
            return "a site-local address"
        if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED_ADDRESS_SPACE:
            return "a shared carrier network address"
        if ip.is_reserved:
            return "a reserved address"
        if ip.is_private:
            return "a private network address"
        if not ip.is_global:
            return "a non-public address"
        if isinstance(ip, ipaddress.IPv4Address) and ip == ipaddress.IPv4Address("255.255.255.255"):
            return "a broadcast address"
        return None

    @staticmethod
    def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
        found: list[ipaddress.IPv4Address] = []
        if ip.sixtofour is not None:
            found.append(ip.sixtofour)
        if ip.teredo is not None:
            found.extend(ip.teredo)
        if ip in _NAT64_PREFIX:
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        return found


DEFAULT_POLICY = AddressPolicy()


# --------------------------------------------------------------------------- URL fetching


@dataclass(frozen=True)
class _Target:
    url: str
    scheme: str
    host: str  # ASCII (IDNA) host name or IP literal without brackets
    port: int
    request_target: str  # path and query, percent-encoded


def _parse_url(url: str) -> _Target:
    if not isinstance(url, str):
        raise UrlRefused("The web address must be text.")
    url = url.strip()
    if not url:
        raise UrlRefused("No web address was given. Please enter an address starting with https:// or http://.")
    if len(url) > _MAX_URL_LENGTH:
        raise UrlRefused(f"The web address is longer than {_MAX_URL_LENGTH:,} characters.")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise UrlRefused("The web address contains control characters and cannot be used.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlRefused("The web address is malformed. Please check it and try again.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = f'"{scheme}:" ' if scheme else ""
        raise UrlRefused(
            f"Only web addresses starting with https:// or http:// can be fetched; this {shown}address cannot be used."
        )
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("Web addresses containing a user name or password cannot be fetched.")
    host = parts.hostname
    if not host:
        raise UrlRefused("The web address has no host name. Please check it and try again.")
    if "%" in host:
        # Percent signs only appear in IPv6 zone identifiers (link-local) or in tricks.
        raise UrlRefused("The host name in the web address is not valid.")
    if port == 0:
        raise UrlRefused("The web address uses port 0, which is not valid.")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise UrlRefused("The host name in the web address is not valid.") from None
    path = parts.path or "/"
    if not path.startswith("/"):
        path = "/" + path
    target = path + (f"?{parts.query}" if parts.query else "")
    # Keep what is already percent-encoded; encode spaces and non-ASCII the way browsers do.
    target = quote(target, safe="/?&=%:@!$'()*+,;~-._[]")
    return _Target(
        url=url,
        scheme=scheme,
        host=host,
        port=port if port is not None else (443 if scheme == "https" else 80),
        request_target=target,
    )


class _Deadline:
    """The overall time budget of one fetch, enforced even while http.client is blocked.

    Per-operation socket timeouts cannot stop a server that sends one byte just before
    each timeout; a timer that shuts the socket down at the deadline can.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds
        self.fired = False
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> Self:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def remaining(self) -> float:
        return self.expires - time.monotonic()

    @property
    def passed(self) -> bool:
        return self.fired or self.remaining() <= 0

    def watch(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            fired = self.fired
        if fired and sock is not None:
            _shutdown(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sock = self._sock
        if sock is not None:
            _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    # Already closed is fine: the point is only that nothing reads from it any more.
    with contextlib.suppress(OSError):
        # The plain socket method on purpose: SSLSocket.shutdown would tear down the TLS
        # object under the feet of the thread that is reading from it.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _PinnedConnectionMixin:
    """Connects to pre-checked IP addresses while ``host`` stays the name for Host/SNI."""

    _addresses: tuple[str, ...]
    _limits: Limits
    _deadline: _Deadline
    port: int

    def _open_pinned_socket(self) -> socket.socket:
        last_error: OSError | None = None
        for address in self._addresses:
            remaining = self._deadline.remaining()
            if remaining <= 0:
                raise TimeoutError("deadline passed before connecting")
            try:
                sock = socket.create_connection(
                    (address, self.port), timeout=min(self._limits.connect_timeout, remaining)
                )
            except OSError as exc:
                last_error = exc
                continue
            with contextlib.suppress(OSError):  # an optimisation only; not every socket supports it
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._deadline.watch(sock)
            return sock
        raise last_error if last_error is not None else OSError("no address to connect to")


class _PinnedHTTPConnection(_PinnedConnectionMixin, http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, addresses: tuple[str, ...], limits: Limits, deadline: _Deadline):
        super().__init__(host, port, timeout=limits.connect_timeout)
        self._addresses = addresses
        self._limits = limits
        self._deadline = deadline

    def connect(self) -> None:
        sock = self._open_pinned_socket()
        sock.settimeout(min(self._limits.read_timeout, max(self._deadline.remaining(), 0.001)))
        self.sock = sock


class _PinnedHTTPSConnection(_PinnedConnectionMixin, http.client.HTTPSConnection):
    def __init__(
        self,
        host: str,
        port: int,
        *,
        addresses: tuple[str, ...],
        limits: Limits,
        deadline: _Deadline,
        context: ssl.SSLContext,
    ):
        super().__init__(host, port, timeout=limits.connect_timeout, context=context)
        self._addresses = addresses
        self._limits = limits
        self._deadline = deadline
        self._tls_context = context

    def connect(self) -> None:
        sock = self._open_pinned_socket()
        try:
            # The handshake runs under the connect timeout; certificates are checked against
            # the host name from the URL, not the IP we connected to.
            tls = self._tls_context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self._deadline.watch(tls)
        tls.settimeout(min(self._limits.read_timeout, max(self._deadline.remaining(), 0.001)))
        self.sock = tls


def _getaddrinfo(host: str, port: int, *, timeout: float) -> list[tuple[Any, ...]]:
    """``socket.getaddrinfo`` with a time limit.

    The resolver has no timeout of its own, so it runs in a daemon thread we can stop waiting
    for; an abandoned lookup finishes (or fails) on its own later without holding anything.
    """
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def lookup() -> None:
        try:
            outcome["value"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except BaseException as exc:  # handed over to the waiting thread below
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=lookup, name="intake-dns", daemon=True).start()
    if not done.wait(timeout):
        raise TimeoutError("name lookup timed out")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _resolve(target: _Target, policy: AddressPolicy, limits: Limits, deadline: _Deadline) -> tuple[str, ...]:
    host = target.host
    if _is_ip_literal(host):
        # Checked before the resolver is even asked, so a literal needs no lookup to be refused.
        reason = policy.refusal(host)
        if reason is not None:
            raise UrlRefused(f"The address {host} is {reason}; only public web addresses can be fetched.")
    try:
        infos = _getaddrinfo(host, target.port, timeout=min(limits.connect_timeout, max(deadline.remaining(), 0.0)))
    except TimeoutError:
        raise FetchFailed(f"Looking up the host {host} took too long. Please try again later.") from None
    except socket.gaierror:
        raise FetchFailed(f"The host {host} could not be found. Please check the web address.") from None
    except (UnicodeError, ValueError):
        raise UrlRefused("The host name in the web address is not valid.") from None
    except OSError:
        raise FetchFailed(f"The host {host} could not be looked up right now. Please try again later.") from None
    addresses: list[str] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = str(sockaddr[0])
        reason = policy.refusal(address)
        if reason is not None:
            if _is_ip_literal(host):
                detail = f"The address {host} is {reason}"
            else:
                detail = f"The host {host} resolves to {address}, which is {reason}"
            raise UrlRefused(f"{detail}; only public web addresses can be fetched.")
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchFailed(f"The host {host} has no usable network address.")
    return tuple(addresses)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _status_text(status: int) -> str:
    try:
        return f"{status} ({http.HTTPStatus(status).phrase})"
    except ValueError:
        return str(status)


def _read_body(
    response: http.client.HTTPResponse, sock: socket.socket, limits: Limits, deadline: _Deadline, host: str
) -> bytes:
    declared = response.length
    if declared is not None and declared > limits.max_bytes:
        raise TooLarge(
            f"The image at that address is {_human_size(declared)}; the limit is {_human_size(limits.max_bytes)}."
        )
    chunks: list[bytes] = []
    received = 0
    while True:
        remaining = deadline.remaining()
        if remaining <= 0 or deadline.fired:
            raise _too_slow(host, limits)
        # Each read may wait read_timeout, but never past the overall deadline.
        sock.settimeout(min(limits.read_timeout, remaining))
        chunk = response.read1(_READ_CHUNK)
        if not chunk:
            if deadline.passed:
                # The watchdog's shutdown looks like an ordinary end of stream.
                raise _too_slow(host, limits)
            if response.length:
                # http.client's read1 reports a short body as a plain end of stream.
                raise FetchFailed(f"The server at {host} closed the connection before the whole image arrived.")
            break
        received += len(chunk)
        if received > limits.max_bytes:
            raise TooLarge(f"The image at that address is larger than the {_human_size(limits.max_bytes)} limit.")
        chunks.append(chunk)
    return b"".join(chunks)


def _too_slow(host: str, limits: Limits) -> FetchFailed:
    return FetchFailed(f"Downloading from {host} took longer than {limits.total_timeout:g} seconds and was stopped.")


def _explain_network_error(exc: BaseException, host: str) -> FetchFailed:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return FetchFailed(f"The secure connection to {host} could not be verified (its certificate is not valid).")
    if isinstance(exc, ssl.SSLError):
        return FetchFailed(f"A secure connection to {host} could not be established.")
    if isinstance(exc, TimeoutError):
        return FetchFailed(
            f"The server at {host} did not answer in time. Please try again later or use another address."
        )
    if isinstance(exc, ConnectionRefusedError):
        return FetchFailed(f"The server at {host} refused the connection.")
    if isinstance(exc, http.client.IncompleteRead):
        return FetchFailed(f"The server at {host} closed the connection before the whole image arrived.")
    if isinstance(exc, http.client.HTTPException):
        return FetchFailed(f"The server at {host} sent a response that is not valid HTTP.")
    return FetchFailed(f"The connection to {host} failed. Please try again later or use another address.")


def _fetch_once(
    target: _Target, limits: Limits, policy: AddressPolicy, deadline: _Deadline
) -> tuple[int, str | None, bytes]:
    """One request: (status, Location header, body). The body is only read for 2xx answers."""
    addresses = _resolve(target, policy, limits, deadline)
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(
            target.host,
            target.port,
            addresses=addresses,
            limits=limits,
            deadline=deadline,
            context=ssl.create_default_context(),
        )
    else:
        connection = _PinnedHTTPConnection(
            target.host, target.port, addresses=addresses, limits=limits, deadline=deadline
        )
    host = target.host
    response: http.client.HTTPResponse | None = None
    try:
        try:
            connection.connect()
        except OSError as exc:
            if deadline.passed:
                raise _too_slow(host, limits) from None
            if isinstance(exc, TimeoutError) and not isinstance(exc, ssl.SSLError):
                raise FetchFailed(f"Could not connect to {host} within {limits.connect_timeout:g} seconds.") from None
            raise _explain_network_error(exc, host) from None
        # http.client drops its reference once the response owns the stream; keep ours for timeouts.
        sock = connection.sock
        assert sock is not None
        try:
            connection.request(
                "GET",
                target.request_target,
                headers={"User-Agent": _USER_AGENT, "Accept": "image/*", "Connection": "close"},
            )
            response = connection.getresponse()
            status = response.status
            if status in _REDIRECT_STATUSES:
                return status, response.getheader("Location"), b""
            if not 200 <= status < 300:
                return status, None, b""
            return status, None, _read_body(response, sock, limits, deadline, host)
        except IntakeError:
            raise
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if deadline.passed:
                raise _too_slow(host, limits) from None
            raise _explain_network_error(exc, host) from None
    finally:
        deadline.watch(None)
        if response is not None:
            response.close()
        connection.close()


def fetch_url(url: str, limits: Limits = Limits(), policy: AddressPolicy = DEFAULT_POLICY) -> bytes:
    """Download ``url`` under every limit and address check; return the raw body bytes."""
    target = _parse_url(url)
    with _Deadline(limits.total_timeout) as deadline:
        redirects = 0
        while True:
            if deadline.passed:
                raise _too_slow(target.host, limits)
            status, location, body = _fetch_once(target, limits, policy, deadline)
            if status not in _REDIRECT_STATUSES:
                if not 200 <= status < 300:
                    raise FetchFailed(
                        f"The server at {target.host} answered with HTTP status {_status_text(status)} "
                        "instead of an image."
                    )
                return body
            if not location:
                raise FetchFailed(f"The server at {target.host} sent a redirect without saying where to.")
            redirects += 1
            if redirects > limits.max_redirects:
                raise UrlRefused(
                    f"The web address redirected more than {limits.max_redirects} times "
                    "(possibly in a loop), so it was not followed."
                )
            try:
                next_url = urljoin(target.url, location.strip())
            except ValueError:
                raise UrlRefused("The web address redirected to a malformed address.") from None
            try:
                target = _parse_url(next_url)
            except UrlRefused as exc:
                raise UrlRefused(f"The web address redirected to another address, which was refused. {exc}") from None


def accept_url(
    url: str,
    limits: Limits = Limits(),
    policy: AddressPolicy = DEFAULT_POLICY,
) -> AcceptedImage:
    """Fetch ``url`` (see ``fetch_url``) and check the bytes like an upload."""
    return accept_bytes(fetch_url(url, limits, policy), limits)
