"""Hostile payloads for the hostile-input suites, built in memory (no files,
no network): image files that lie about themselves, pixel bombs, documents
that pretend to be images, truncated files."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"


# --------------------------------------------------------------------------- image payloads


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def noise(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), mode="RGB")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def handmade_png(width: int, height: int, bit_depth: int, color_type: int, idat: bytes) -> bytes:
    """A PNG with the given header and compressed pixel stream; every CRC is valid."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def declared_size_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid-looking PNG whose IHDR declares ``width`` x ``height`` but carries one row."""
    return handmade_png(width, height, 8, 2, zlib.compress(b"\x00" + b"\x00" * 30))


def pixel_bomb_png(side: int = 7000) -> bytes:
    """A real, fully decodable 1-bit ``side`` x ``side`` PNG that compresses to a few KB."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    return handmade_png(side, side, 1, 0, zlib.compress(row * side, 9))


def rgb16_png(width: int = 24, height: int = 16) -> bytes:
    """A 48-bit (16 bits per channel) RGB PNG, which Pillow cannot write itself."""
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 65536, (height, width, 3), dtype=np.uint16).astype(">u2")
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(height))
    return handmade_png(width, height, 16, 2, zlib.compress(raw))


def gray16_png(width: int = 24, height: int = 16) -> bytes:
    ramp = np.linspace(0, 65535, width * height, dtype=np.uint16).reshape(height, width)
    return encode(Image.fromarray(ramp), "PNG")


def palette_png(transparent: bool = False) -> bytes:
    image = noise(32, 24, seed=5).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    return encode(image, "PNG", transparency=0) if transparent else encode(image, "PNG")


FIRST_FRAME = (255, 0, 0)


def animated_gif(size: tuple[int, int] = (16, 12)) -> bytes:
    """Two frames, red then blue: only the red one may be analysed."""
    frames = [Image.new("RGB", size, FIRST_FRAME), Image.new("RGB", size, (0, 0, 255))]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)


def cmyk_jpeg() -> bytes:
    return encode(noise(40, 30, seed=9).convert("CMYK"), "JPEG", quality=85)


def exif_rotated_jpeg(width: int = 40, height: int = 20, orientation: int = 6) -> bytes:
    """Stored ``width`` x ``height``; EXIF says rotate, so it is shown ``height`` x ``width``."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(noise(width, height, seed=2), "JPEG", quality=90, exif=exif.tobytes())


def solid_png(width: int, height: int, colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    return encode(Image.new("RGB", (width, height), colour), "PNG")


def example(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


def truncated(data: bytes, fraction: float = 0.5) -> bytes:
    return data[: max(1, int(len(data) * fraction))]


SVG = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<script>alert(1)</script><rect width="10" height="10"/></svg>')
HTML = b"<!DOCTYPE html><html><head><title>x</title></head><body><img src=x onerror=alert(1)></body></html>"
NOT_AN_IMAGE = b"This is a plain text file, certainly not a picture.\n" * 20


class Planted:
    """Unpickling this object creates ``marker``: proof that a read ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))
