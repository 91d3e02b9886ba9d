"""Image decoding and validation: refusals, accepted inputs, hashing, limits."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from dashapp import intake
from dashapp.intake import (
    AcceptedImage,
    CorruptImage,
    EmptyInput,
    IntakeError,
    Limits,
    TooLarge,
    TooManyPixels,
    UnsupportedFormat,
    accept_bytes,
    decode_stored_png,
    image_sha256,
)
from tests.unit.intake.refusals import assert_refusal

# --------------------------------------------------------------------------- helpers


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def handmade_grey_png(width: int, height: int, idat: bytes) -> bytes:
    """An 8-bit greyscale PNG with whatever header size and (already compressed) IDAT we like."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


DEFAULT_LIMITS = Limits()


def refused(data: bytes, expected: type[IntakeError], limits: Limits = DEFAULT_LIMITS) -> IntakeError:
    with pytest.raises(IntakeError) as info:
        accept_bytes(data, limits)
    assert_refusal(info.value, expected)
    return info.value


def noise_image(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), mode="RGB")


def close_to(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


@pytest.fixture(scope="module")
def pixel_bomb() -> bytes:
    """A real, valid 8000x8000 greyscale PNG (64 megapixels) that is only ~60 KB on disk."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + 8000)  # filter byte + one all-black row
    idat = b"".join(compressor.compress(row) for _ in range(8000)) + compressor.flush()
    return handmade_grey_png(8000, 8000, idat)


# --------------------------------------------------------------------------- refusals


def test_empty_bytes_are_refused() -> None:
    refused(b"", EmptyInput)


def test_none_counts_as_empty() -> None:
    with pytest.raises(EmptyInput) as info:
        accept_bytes(None)  # type: ignore[arg-type]
    assert_refusal(info.value, EmptyInput)


@pytest.mark.parametrize(
    "data",
    [
        b"hello, this is certainly not an image\n" * 20,
        bytes(range(256)) * 8,
        b"\x00" * 512,
        b'{"image": "nope"}',
    ],
    ids=["text", "binary", "zeros", "json"],
)
def test_non_image_bytes_are_unsupported(data: bytes) -> None:
    exc = refused(data, UnsupportedFormat)
    assert exc.status == 415
    for name in ("JPEG", "PNG", "WebP", "BMP", "GIF"):
        assert name in exc.message


def test_truncated_jpeg_is_corrupt() -> None:
    data = encode(noise_image(64, 64), "JPEG", quality=90)
    exc = refused(data[: len(data) // 2], CorruptImage)
    assert "JPEG" in exc.message


def test_truncated_png_is_corrupt() -> None:
    data = encode(noise_image(64, 64), "PNG")
    exc = refused(data[: len(data) // 2], CorruptImage)
    assert "PNG" in exc.message


def test_png_signature_with_garbage_is_corrupt() -> None:
    refused(b"\x89PNG\r\n\x1a\n" + b"\xde\xad\xbe\xef" * 64, CorruptImage)


def test_png_header_declaring_100000_squared_is_refused_without_decoding() -> None:
    data = handmade_grey_png(100_000, 100_000, zlib.compress(b"\x00" * 64))
    assert len(data) < 200
    exc = refused(data, TooManyPixels)
    assert exc.status == 413
    assert "40 megapixels" in exc.message


def test_png_header_just_over_the_limit_names_its_size() -> None:
    data = handmade_grey_png(9000, 9000, zlib.compress(b"\x00" * 64))
    exc = refused(data, TooManyPixels)
    assert "9,000 x 9,000" in exc.message and "40 megapixels" in exc.message


def test_real_pixel_bomb_is_refused_before_decoding(pixel_bomb: bytes) -> None:
    assert len(pixel_bomb) < 200_000
    exc = refused(pixel_bomb, TooManyPixels, Limits(max_pixels=10_000_000))
    assert "8,000 x 8,000" in exc.message and "10 megapixels" in exc.message


def test_pixel_bomb_is_a_genuine_image(pixel_bomb: bytes) -> None:
    # Guard against the bomb test passing only because the fixture is broken.
    with Image.open(io.BytesIO(pixel_bomb)) as image:
        assert image.size == (8000, 8000) and image.format == "PNG"


def test_zero_sized_image_is_refused() -> None:
    refused(handmade_grey_png(0, 10, zlib.compress(b"")), CorruptImage)


def test_svg_is_unsupported() -> None:
    svg = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'
    exc = refused(svg, UnsupportedFormat)
    assert "SVG" in exc.message


def test_html_is_unsupported() -> None:
    exc = refused(b"<!DOCTYPE html><html><body><img src=x></body></html>", UnsupportedFormat)
    assert "HTML" in exc.message


@pytest.mark.parametrize(("fmt", "word"), [("TIFF", "TIFF"), ("ICO", "ICO"), ("PDF", "PDF")])
def test_other_real_image_formats_are_unsupported(fmt: str, word: str) -> None:
    exc = refused(encode(noise_image(16, 16), fmt), UnsupportedFormat)
    assert word in exc.message and "JPEG" in exc.message


def test_extension_or_name_plays_no_role() -> None:
    # The same TIFF bytes are refused whatever they are called; a PNG is accepted as PNG.
    assert accept_bytes(encode(noise_image(4, 4), "PNG")).source_format == "PNG"
    refused(encode(noise_image(4, 4), "TIFF"), UnsupportedFormat)


def test_file_over_max_bytes_is_too_large() -> None:
    data = encode(noise_image(64, 64), "PNG")
    exc = refused(data, TooLarge, Limits(max_bytes=1000))
    assert exc.status == 413
    assert "1,000 bytes" in exc.message


def test_too_large_message_uses_megabytes() -> None:
    data = b"\x89PNG\r\n\x1a\n" + b"\x00" * (3 * 1024 * 1024 - 8)
    exc = refused(data, TooLarge, Limits(max_bytes=2 * 1024 * 1024))
    assert exc.message == "The file is 3 MB; the limit is 2 MB."


def test_non_bytes_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        accept_bytes("not bytes")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- accepted inputs


def test_animated_gif_takes_the_first_frame() -> None:
    red = Image.new("RGB", (8, 8), (255, 0, 0))
    blue = Image.new("RGB", (8, 8), (0, 0, 255))
    data = encode(red, "GIF", save_all=True, append_images=[blue], duration=100, loop=0)
    with Image.open(io.BytesIO(data)) as check:
        assert getattr(check, "n_frames", 1) == 2
    accepted = accept_bytes(data)
    assert accepted.source_format == "GIF"
    assert accepted.image.mode == "RGB"
    assert accepted.image.getpixel((4, 4)) == (255, 0, 0)


def test_16_bit_greyscale_keeps_mid_grey() -> None:
    samples = np.array([[0, 32768, 65535, 16384]], dtype=np.uint16)
    data = encode(Image.fromarray(samples), "PNG")
    with Image.open(io.BytesIO(data)) as check:
        assert check.mode.startswith("I")  # really a 16-bit file
    accepted = accept_bytes(data)
    pixels = [accepted.image.getpixel((x, 0)) for x in range(4)]
    assert pixels[0] == (0, 0, 0)
    assert pixels[1] in ((127, 127, 127), (128, 128, 128))
    assert pixels[2] == (255, 255, 255)
    assert pixels[3] in ((63, 63, 63), (64, 64, 64))


def test_palette_png_with_transparency_becomes_white_where_transparent() -> None:
    image = Image.new("P", (2, 1))
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * (256 * 3 - 6))
    image.putpixel((0, 0), 0)
    image.putpixel((1, 0), 1)
    data = encode(image, "PNG", transparency=0)
    accepted = accept_bytes(data)
    assert accepted.image.getpixel((0, 0)) == (255, 255, 255)
    assert accepted.image.getpixel((1, 0)) == (0, 255, 0)


def test_palette_png_without_transparency() -> None:
    image = Image.new("P", (1, 1))
    image.putpalette([10, 20, 30] + [0] * 765)
    assert accept_bytes(encode(image, "PNG")).image.getpixel((0, 0)) == (10, 20, 30)


def test_cmyk_jpeg_becomes_rgb() -> None:
    data = encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG", quality=95)
    with Image.open(io.BytesIO(data)) as check:
        assert check.mode == "CMYK"
    accepted = accept_bytes(data)
    assert accepted.image.mode == "RGB"
    assert close_to(accepted.image.getpixel((8, 8)), (255, 0, 0), 12)


def test_rgba_png_is_composited_on_white() -> None:
    image = Image.new("RGBA", (3, 1))
    image.putpixel((0, 0), (255, 0, 0, 0))  # fully transparent: white
    image.putpixel((1, 0), (0, 0, 255, 255))  # opaque: unchanged
    image.putpixel((2, 0), (0, 0, 0, 128))  # half black: mid-grey
    accepted = accept_bytes(encode(image, "PNG"))
    assert accepted.image.getpixel((0, 0)) == (255, 255, 255)
    assert accepted.image.getpixel((1, 0)) == (0, 0, 255)
    assert close_to(accepted.image.getpixel((2, 0)), (127, 127, 127), 1)


def test_la_and_1_bit_pngs() -> None:
    la = Image.new("LA", (2, 1))
    la.putpixel((0, 0), (0, 0))
    la.putpixel((1, 0), (50, 255))
    accepted = accept_bytes(encode(la, "PNG"))
    assert accepted.image.getpixel((0, 0)) == (255, 255, 255)
    assert accepted.image.getpixel((1, 0)) == (50, 50, 50)
    bilevel = Image.new("1", (2, 1), 0)
    bilevel.putpixel((1, 0), 1)
    accepted = accept_bytes(encode(bilevel, "PNG"))
    assert [accepted.image.getpixel((x, 0)) for x in range(2)] == [(0, 0, 0), (255, 255, 255)]


@pytest.mark.parametrize("size", [(1, 1), (1, 4000), (4000, 1)])
def test_extreme_but_legal_shapes(size: tuple[int, int]) -> None:
    accepted = accept_bytes(encode(Image.new("RGB", size, (1, 2, 3)), "PNG"))
    assert (accepted.width, accepted.height) == size
    assert accepted.image.size == size
    assert accepted.image.getpixel((0, 0)) == (1, 2, 3)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "GIF"])
def test_every_allowed_format_is_accepted(fmt: str) -> None:
    accepted = accept_bytes(encode(noise_image(20, 10), fmt))
    assert isinstance(accepted, AcceptedImage)
    assert accepted.source_format == fmt
    assert (accepted.width, accepted.height) == (20, 10)
    assert accepted.image.mode == "RGB"
    assert accepted.sha256 == image_sha256(accepted.image)


def _marked_jpeg(orientation: int | None, exif_bytes: bytes | None = None) -> bytes:
    """A 40x20 white JPEG with a red block in its stored top-left corner."""
    image = Image.new("RGB", (40, 20), (255, 255, 255))
    image.paste((255, 0, 0), (0, 0, 8, 8))
    if exif_bytes is None and orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        exif_bytes = exif.tobytes()
    options: dict[str, object] = {"quality": 95}
    if exif_bytes is not None:
        options["exif"] = exif_bytes
    return encode(image, "JPEG", **options)


def test_exif_orientation_6_is_applied() -> None:
    accepted = accept_bytes(_marked_jpeg(6))
    # Orientation 6 means "rotate 90 degrees clockwise to display".
    assert (accepted.width, accepted.height) == (20, 40)
    assert accepted.image.size == (20, 40)
    # Clockwise rotation carries the stored top-left corner to the top-right.
    assert close_to(accepted.image.getpixel((16, 3)), (255, 0, 0), 40)
    assert close_to(accepted.image.getpixel((3, 3)), (255, 255, 255), 40)
    assert close_to(accepted.image.getpixel((16, 36)), (255, 255, 255), 40)


def test_exif_orientation_is_not_kept_in_the_stored_png() -> None:
    accepted = accept_bytes(_marked_jpeg(6))
    with Image.open(io.BytesIO(accepted.png_bytes())) as stored:
        assert stored.size == (20, 40)
        assert stored.getexif().get(0x0112) in (None, 1)


def test_broken_exif_falls_back_to_no_rotation() -> None:
    accepted = accept_bytes(_marked_jpeg(None, exif_bytes=b"Exif\x00\x00" + b"\xde\xad\xbe\xef" * 8))
    assert (accepted.width, accepted.height) == (40, 20)
    assert close_to(accepted.image.getpixel((3, 3)), (255, 0, 0), 40)


def test_sha256_is_stable_across_encodings() -> None:
    image = noise_image(13, 7, seed=3)
    from_png = accept_bytes(encode(image, "PNG"))
    from_bmp = accept_bytes(encode(image, "BMP"))
    assert from_png.source_format == "PNG" and from_bmp.source_format == "BMP"
    assert from_png.sha256 == from_bmp.sha256
    expected = hashlib.sha256(b"13x7:" + image.tobytes()).hexdigest()
    assert from_png.sha256 == expected


def test_sha256_depends_on_the_shape() -> None:
    # Same bytes, different shape: a different image, so a different hash.
    pixels = bytes(range(48))
    wide = Image.frombytes("RGB", (4, 4), pixels)
    tall = Image.frombytes("RGB", (2, 8), pixels)
    assert image_sha256(wide) != image_sha256(tall)


def test_image_sha256_requires_rgb() -> None:
    with pytest.raises(ValueError):
        image_sha256(Image.new("L", (1, 1)))


def test_png_bytes_round_trip_through_the_store() -> None:
    accepted = accept_bytes(encode(noise_image(30, 17, seed=5), "JPEG"))
    restored = decode_stored_png(accepted.png_bytes())
    assert restored.mode == "RGB"
    assert image_sha256(restored) == accepted.sha256


def test_decode_stored_png_refuses_what_we_did_not_write() -> None:
    with pytest.raises(IntakeError) as info:
        decode_stored_png(encode(noise_image(4, 4), "JPEG"))
    assert_refusal(info.value, UnsupportedFormat)
    with pytest.raises(IntakeError) as info:
        decode_stored_png(handmade_grey_png(100_000, 100_000, zlib.compress(b"")))
    assert_refusal(info.value, TooManyPixels)
    with pytest.raises(IntakeError) as info:
        decode_stored_png(b"")
    assert_refusal(info.value, EmptyInput)


def test_decode_stored_png_has_no_byte_limit_but_a_pixel_limit() -> None:
    data = encode(noise_image(100, 100), "PNG")
    assert decode_stored_png(data, Limits(max_bytes=10)).size == (100, 100)
    with pytest.raises(TooManyPixels):
        decode_stored_png(data, Limits(max_pixels=9_999))


@pytest.mark.parametrize(
    "make",
    [
        lambda: Image.new("F", (3, 1), 0.5),
        lambda: Image.new("I", (3, 1), 70_000),
        lambda: Image.new("I", (3, 1), -5),
        lambda: Image.new("I;16B", (3, 1), 32768),
        lambda: Image.new("YCbCr", (3, 1), (128, 128, 128)),
        lambda: Image.new("CMYK", (3, 1), (0, 0, 0, 255)),
        lambda: Image.new("LAB", (3, 1), (50, 0, 0)),
        lambda: Image.new("HSV", (3, 1), (0, 255, 255)),
        lambda: Image.new("RGBX", (3, 1), (1, 2, 3, 0)),
        lambda: Image.new("RGBa", (3, 1), (1, 2, 3, 255)),
        lambda: Image.new("La", (3, 1), (9, 255)),
        lambda: Image.new("PA", (3, 1), (0, 255)),
        lambda: Image.new("1", (3, 1), 1),
    ],
    ids=["F", "I-big", "I-negative", "I;16B", "YCbCr", "CMYK", "LAB", "HSV", "RGBX", "RGBa", "La", "PA", "1"],
)
def test_every_mode_becomes_rgb(make: Callable[[], Image.Image]) -> None:
    rgb = intake.decode._to_rgb(make())
    assert rgb.mode == "RGB" and rgb.size == (3, 1)


def test_float_and_wide_integer_modes_are_scaled_not_clipped() -> None:
    assert intake.decode._to_rgb(Image.new("F", (1, 1), 0.5)).getpixel((0, 0)) in ((127, 127, 127), (128, 128, 128))
    ramp = Image.fromarray(np.array([[0, 100_000, 200_000]], dtype=np.int32), mode="I")
    assert [intake.decode._to_rgb(ramp).getpixel((x, 0))[0] for x in range(3)] in ([0, 127, 255], [0, 128, 255])
    big_endian = Image.new("I;16B", (1, 1), 32768)
    assert intake.decode._to_rgb(big_endian).getpixel((0, 0)) in ((127, 127, 127), (128, 128, 128))


# --------------------------------------------------------------------------- limits


def test_limits_from_settings() -> None:
    from dashapp.config.settings import Settings

    settings = Settings(
        max_upload_bytes=123,
        max_pixels=456,
        url_connect_timeout_s=1.5,
        url_read_timeout_s=2.5,
        url_total_timeout_s=3.5,
    )
    limits = Limits.from_settings(settings)
    assert limits == Limits(
        max_bytes=123, max_pixels=456, connect_timeout=1.5, read_timeout=2.5, total_timeout=3.5, max_redirects=5
    )


@pytest.mark.parametrize("field", ["max_bytes", "max_pixels", "connect_timeout", "read_timeout", "total_timeout"])
def test_limits_must_be_positive(field: str) -> None:
    with pytest.raises(ValueError):
        Limits(**{field: 0})


def test_mpo_camera_jpeg_is_accepted_as_jpeg() -> None:
    first = Image.new("RGB", (8, 8), (255, 0, 0))
    second = Image.new("RGB", (8, 8), (0, 0, 255))
    data = encode(first, "MPO", save_all=True, append_images=[second])
    accepted = accept_bytes(data)
    assert accepted.source_format == "JPEG"
    assert close_to(accepted.image.getpixel((4, 4)), (255, 0, 0), 4)


def test_refusals_are_worded_in_the_readers_language_with_its_numbers() -> None:
    from dashapp import i18n
    from dashapp.intake import EmptyInput, Limits, TooLarge, accept_bytes

    with i18n.speaking("es"), pytest.raises(EmptyInput) as empty:
        accept_bytes(b"")
    assert empty.value.message == "El archivo está vacío. Elige un archivo de imagen."
    with i18n.speaking("es"), pytest.raises(TooLarge) as large:
        accept_bytes(b"x" * 30_000, Limits(max_bytes=20_000))
    assert large.value.message == "El archivo ocupa 29,3 KB; el límite es 19,5 KB."
    with pytest.raises(TooLarge) as large:
        accept_bytes(b"x" * 30_000, Limits(max_bytes=20_000))
    assert large.value.message == "The file is 29.3 KB; the limit is 19.5 KB."
