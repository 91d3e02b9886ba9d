"""Small pictures for circuit and building-block cards: a kernel slice in two
colours (OpenAI Microscope's weight view) and a map over its image.

Maps are placed by the one geometry rule (``analysis/maps/geometry.py``):
cell (row, col) is drawn as a ``dx`` × ``dy`` rectangle centred on its
receptive field's centre, in original-image pixels.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image
from plotly import colors

from dashapp.analysis.maps.geometry import MapGeometry
from dashapp.figures.colormaps import colorscale

POSITIVE = np.array([0.84, 0.38, 0.0])  # orange: excites (colour-blind safe against blue)
NEGATIVE = np.array([0.0, 0.36, 0.75])  # blue: inhibits
THUMB_SIDE = 160


def _png(picture: Image.Image) -> str:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _jpeg(picture: Image.Image) -> str:
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=82)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


_BASES: dict[tuple[int, int], tuple[Image.Image, Image.Image, float]] = {}


def _base(image: Image.Image, side: int) -> tuple[Image.Image, float]:
    """The image at longest side ``side`` (RGBA) and its scale: once per image and size, not per card
    (keyed by identity, the image kept beside its thumbnail so the key cannot be reused)."""
    found = _BASES.get((id(image), side))
    if found is not None and found[0] is image:
        return found[1], found[2]
    scale = side / max(image.width, image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # Dimmed, so the map's colours stand out over any photo.
    base = Image.eval(image.convert("RGB").resize(size), lambda v: int(v * 0.55)).convert("RGBA")
    if len(_BASES) >= 8:
        _BASES.clear()
    _BASES[(id(image), side)] = (image, base, scale)
    return base, scale


def kernel_rgb(kernel: np.ndarray, scale: float) -> np.ndarray:
    """(kh, kw) weights -> (kh, kw, 3) in [0, 1]: white at 0, orange positive, blue negative, full at ``scale``."""
    level = np.clip(kernel / scale, -1.0, 1.0)[..., None] if scale > 0 else np.zeros((*kernel.shape, 1))
    white = np.ones(3)
    return np.where(level >= 0, white + level * (POSITIVE - white), white - level * (NEGATIVE - white))


def kernel_uri(kernel: np.ndarray, scale: float, side: int = 48) -> str:
    rgb = kernel_rgb(kernel, scale)
    upscale = max(1, side // max(rgb.shape[:2]))
    picture = Image.fromarray(np.round(rgb * 255).astype(np.uint8))
    return _png(picture.resize((picture.width * upscale, picture.height * upscale), Image.Resampling.NEAREST))


def _lut(name: str) -> np.ndarray:
    samples = colors.sample_colorscale(colorscale(name), list(np.linspace(0.0, 1.0, 256)))
    return np.array([colors.unlabel_rgb(sample) for sample in samples], dtype=np.float32)


_LUTS: dict[str, np.ndarray] = {}


def overlay_uri(image: Image.Image, fmap: np.ndarray, geometry: MapGeometry, colormap: str = "Viridis",
                opacity: float = 0.85, side: int = THUMB_SIDE, top: float | None = None) -> str:
    """``image`` (longest side ``side``) with ``fmap``'s positive part over it, 0 to ``top`` (default: its peak)."""
    lut = _LUTS.get(colormap)
    if lut is None:
        lut = _LUTS[colormap] = _lut(colormap)
    peak = float(fmap.max()) if top is None else top
    level = np.clip(fmap / peak, 0.0, 1.0) if peak > 0 else np.zeros_like(fmap)
    rgb = lut[np.round(level * 255).astype(int)].astype(np.uint8)
    alpha = np.round(255 * opacity * np.sqrt(level)).astype(np.uint8)
    cells = Image.fromarray(np.dstack([rgb, alpha]), "RGBA")
    base, scale = _base(image, side)
    rows, cols = fmap.shape
    width, height = max(1, round(cols * geometry.dx * scale)), max(1, round(rows * geometry.dy * scale))
    left = round((geometry.x0 - geometry.dx / 2) * scale)
    upper = round((geometry.y0 - geometry.dy / 2) * scale)
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    layer.paste(cells.resize((width, height), Image.Resampling.NEAREST), (left, upper))
    return _jpeg(Image.alpha_composite(base, layer).convert("RGB"))
