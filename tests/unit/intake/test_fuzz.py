"""Property tests: whatever bytes arrive, only ``IntakeError`` subclasses may come out of intake."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from dashapp import intake
from dashapp.intake import AcceptedImage, IntakeError, Limits, accept_bytes, decode_stored_png

# A small pixel limit keeps each example cheap when a mutation inflates a size field;
# the refusal path for large sizes is the same code whatever the limit.
FUZZ_LIMITS = Limits(max_pixels=250_000)
FUZZ_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    database=None,  # nothing written into the working tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _seeds() -> list[bytes]:
    rng = np.random.default_rng(11)
    rgb = Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8), mode="RGB")
    rgba = Image.fromarray(rng.integers(0, 256, (8, 8, 4), dtype=np.uint8), mode="RGBA")
    grey16 = Image.fromarray(rng.integers(0, 65536, (6, 6), dtype=np.uint16))
    exif = Image.Exif()
    exif[0x0112] = 6
    frames = [Image.new("RGB", (8, 8), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    return [
        _encode(rgb, "JPEG", quality=80),
        _encode(rgb, "JPEG", quality=80, exif=exif.tobytes()),
        _encode(rgb, "JPEG", quality=80, progressive=True),
        _encode(rgb.convert("CMYK"), "JPEG"),
        _encode(rgb, "PNG"),
        _encode(rgba, "PNG"),
        _encode(grey16, "PNG"),
        _encode(rgb.convert("P"), "PNG", transparency=0),
        _encode(rgb, "PNG", save_all=True, append_images=[rgb.rotate(90)]),  # APNG
        _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0),
        _encode(rgb.convert("P"), "GIF"),
        _encode(rgb, "BMP"),
        _encode(rgb.convert("1"), "BMP"),
        _encode(rgb, "WEBP", quality=80),
        _encode(rgb, "WEBP", lossless=True),
        _encode(rgba, "WEBP", save_all=True, append_images=[rgba.rotate(90)], duration=50),
    ]


SEEDS = _seeds()
INTERESTING_WORDS = [b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x00\x01\x00\x00", b"\x80\x00"]


@st.composite
def mutated_images(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    operations = draw(st.lists(st.sampled_from(["flip", "truncate", "insert", "delete", "splice", "word"]), max_size=6))
    for operation in operations:
        position = draw(st.integers(0, max(len(data), 1) - 1))
        if operation == "flip" and data:
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif operation == "truncate":
            del data[position:]
        elif operation == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=32))
        elif operation == "delete":
            del data[position : position + draw(st.integers(1, 64))]
        elif operation == "splice":
            other = draw(st.sampled_from(SEEDS))
            cut = draw(st.integers(0, len(other)))
            data[position:] = other[cut:]
        elif operation == "word":
            # Size fields are where decoders get hurt: overwrite with extreme 16/32-bit values.
            data[position : position + 4] = draw(st.sampled_from(INTERESTING_WORDS))
    return bytes(data)


def _check(data: bytes) -> None:
    try:
        result = accept_bytes(data, FUZZ_LIMITS)
    except IntakeError as exc:
        assert 400 <= exc.status < 500
        assert exc.message
        return
    assert isinstance(result, AcceptedImage)
    assert result.image.mode == "RGB"
    assert result.image.size == (result.width, result.height)
    assert 0 < result.width * result.height <= FUZZ_LIMITS.max_pixels
    assert result.sha256 == intake.image_sha256(result.image)


def test_seeds_are_accepted() -> None:
    for seed in SEEDS:
        accept_bytes(seed, FUZZ_LIMITS)


@FUZZ_SETTINGS
@given(mutated_images())
def test_mutated_images_only_raise_intake_errors(data: bytes) -> None:
    _check(data)


@FUZZ_SETTINGS
@given(
    st.one_of(
        st.binary(max_size=2048),
        st.builds(
            lambda magic, rest: magic + rest,
            st.sampled_from(
                [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"GIF87a", b"BM", b"RIFF\x00\x00\x00\x00WEBPVP8 "]
            ),
            st.binary(max_size=512),
        ),
    )
)
def test_arbitrary_bytes_only_raise_intake_errors(data: bytes) -> None:
    _check(data)


@settings(max_examples=150, deadline=None, database=None)
@given(mutated_images())
def test_decode_stored_png_only_raises_intake_errors(data: bytes) -> None:
    try:
        image = decode_stored_png(data, FUZZ_LIMITS)
    except IntakeError:
        return
    assert image.mode == "RGB"


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=200))
def test_url_parsing_only_raises_url_refused(url: str) -> None:
    try:
        target = intake.addresses._parse_url(url)
    except intake.UrlRefused as exc:
        assert exc.message
        return
    assert target.scheme in ("http", "https") and target.host and 0 < target.port < 65536
    assert all(0x20 < ord(ch) < 0x7F for ch in target.request_target)
