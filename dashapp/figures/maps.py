"""Plotly figure builders: pure functions from arrays to figures.

Bytes matter: pictures travel as small WebP data URIs, maps as base64 typed
arrays (plotly encodes numpy arrays that way) quantized to 16 or 8 bits, and
figures use the empty template. Each heatmap carries in ``layout.meta`` what
the browser needs to answer hovers on its own (scale back to response values,
map-to-image geometry, receptive field).
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from dash import dcc
from PIL import Image

from dashapp.analysis.maps.geometry import map_geometry
from dashapp.analysis.maps.regions import Region
from dashapp.analysis.models.graph import ReceptiveField
from dashapp.figures.axes import percent_axis
from dashapp.figures.colormaps import colorscale
from dashapp.i18n import N_, Translated, _, number, percent, plotly_separators, significant
from dashapp.wording.maps import describe_map
from dashapp.wording.regions import size_label

SIZE_COLOURS = {"small": "#00c853", "medium": "#ffd600", "large": "#ff6d00", "very large": "#d50000"}
# Size classes told by label as well as colour: the letter beside each box's number, in the reader's language.
SIZE_LETTERS = Translated({"small": N_("S"), "medium": N_("M"), "large": N_("L"), "very large": N_("XL")})
PREVIEW_SIDE = 320
GRID_MAX_SIDE = 56
MARGIN = {"l": 0, "r": 0, "t": 0, "b": 0}
TOOLBAR: dcc.Graph.Config = {  # on hover, above the plot (style.css); one Tab stop (assets/js/a11y.js)
    "displaylogo": False, "displayModeBar": "hover",
    "modeBarButtons": [["toImage", "resetScale2d"]],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def picture_uri(image: Image.Image, max_side: int = PREVIEW_SIDE, quality: int = 80) -> str:
    """A downscaled WebP data URI of ``image`` (what the browser draws under maps)."""
    picture = image.convert("RGB")
    scale = min(1.0, max_side / max(picture.width, picture.height))
    if scale < 1.0:
        size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
        picture = picture.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="WEBP", quality=quality, method=4)
    return "data:image/webp;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def array_uri(rgb: np.ndarray, upscale: int = 1) -> str:
    """(H, W, 3) floats in [0, 1] -> lossless PNG data URI (kernels: exact colours)."""
    picture = Image.fromarray(np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8))
    if upscale > 1:
        picture = picture.resize((picture.width * upscale, picture.height * upscale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def quantize(fmap: np.ndarray, bits: int = 16, top: float | None = None) -> tuple[np.ndarray, float]:
    """Map -> unsigned ints and the scale back to response units (value = q * scale).
    ``top``: the response drawn at the top of the colour scale (default: the map's peak)."""
    if top is None:
        top = float(fmap.max()) if fmap.size else 0.0
    levels = (1 << bits) - 1
    dtype = np.uint16 if bits == 16 else np.uint8
    if top <= 0:
        return np.zeros(fmap.shape, dtype=dtype), 0.0
    scale = top / levels
    return np.round(np.clip(fmap, 0, top) / scale).astype(dtype), scale


def _plain_layout(height: int) -> dict[str, Any]:
    """Layout every map figure shares: no template, margins, legend or dragging; the reader's decimal mark."""
    return {"template": {}, "margin": dict(MARGIN), "height": height, "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)", "dragmode": False, "showlegend": False,
            "separators": plotly_separators()}


def _background_image(uri: str, width: int, height: int) -> dict[str, Any]:
    return {"source": uri, "xref": "x", "yref": "y", "x": 0, "y": 0, "sizex": width, "sizey": height,
            "sizing": "stretch", "layer": "below", "xanchor": "left", "yanchor": "top"}


def _unvalidated(*traces: dict[str, Any], layout: dict[str, Any]) -> go.Figure:
    """A figure from plain dicts without plotly's per-property validation:
    validating a heatmap figure cost ~13 ms (a grid of 24 ~60 ms) on every
    control change, and these dicts are written against the plotly.js schema
    (colour scales are stops, never names: ``figures/colormaps.py``)."""
    return go.Figure({"data": list(traces), "layout": layout}, _validate=False)


SMALL_MAP_CELLS = 64 * 64


def heatmap_figure(
    fmap: np.ndarray,
    picture: str | None,
    image_width: int,
    image_height: int,
    receptive_field: ReceptiveField,
    input_size: int,
    filter_index: int,
    opacity: float = 0.5,
    colormap: str = "Viridis",
    height: int = 260,
    zmax: float | None = None,
    subject: str | None = None,
    quantity: str = "response",
) -> go.Figure:
    """One filter's map over the image, in original image pixel coordinates.

    Each cell is drawn centred where its receptive field is centred
    (``analysis/maps/geometry.py``; the hover box in ``assets/js/dashapp.js`` reads
    the same geometry from ``layout.meta``), not stretched evenly over the
    image: where padding shifts the cells, a strip along an edge stays
    uncovered because no cell is centred there.

    ``zmax`` (response units) fixes the top of the colour scale, so maps drawn
    with the same ``zmax`` share one scale (Compare); by default each map's
    own peak is the top.

    ``layout.meta.description`` tells the map in words for screen readers
    (``subject`` names it, "Filter <index>" by default, in that and in the
    hover; ``quantity`` is what it measures).

    ``picture=None`` leaves the background to the browser, which draws the
    page's one shared picture under every map (sent once, not once per map).
    Small maps travel as 16-bit values, large ones (first layers) as 8-bit.
    """
    rows, cols = fmap.shape
    name = subject or _("Filter {index}").format(index=filter_index)
    bits = 16 if rows * cols <= SMALL_MAP_CELLS else 8
    q, scale = quantize(fmap, bits, zmax)
    geometry = map_geometry(receptive_field, input_size, image_width, image_height)
    trace = {
        "type": "heatmap", "z": q,
        "x0": geometry.x0, "dx": geometry.dx, "y0": geometry.y0, "dy": geometry.dy,
        "zmin": 0, "zmax": (1 << bits) - 1,
        "colorscale": colorscale(colormap), "opacity": opacity, "showscale": False,
        "hovertemplate": "x %{x:.0f} px, y %{y:.0f} px<extra></extra>",
    }
    layout = {
        **_plain_layout(height),
        "images": [_background_image(picture or "", image_width, image_height)],
        "xaxis": {"range": [0, image_width], "visible": False, "constrain": "domain"},
        "yaxis": {"range": [image_height, 0], "visible": False, "scaleanchor": "x"},
        "meta": {
            "kind": "heatmap",
            "shared_picture": picture is None,
            "filter": filter_index,
            "scale": scale,
            "zmax": scale * ((1 << bits) - 1),  # the response at the top of the colour scale
            "width": image_width,
            "height": image_height,
            "rows": rows,
            "cols": cols,
            "geometry": geometry.as_dict(),
            "name": name,
            "description": describe_map(fmap, name, quantity),
        },
    }
    return _unvalidated(trace, layout=layout)


def thumbnail(fmap: np.ndarray, max_side: int = GRID_MAX_SIDE) -> np.ndarray:
    """Max-pool a map down to at most ``max_side`` cells a side: a grid tile is
    ~150 px tall, and max (not mean) keeps small peaks visible."""
    factor = int(np.ceil(max(fmap.shape) / max_side))
    if factor <= 1:
        return fmap
    h, w = fmap.shape
    padded = np.zeros((int(np.ceil(h / factor)) * factor, int(np.ceil(w / factor)) * factor), dtype=fmap.dtype)
    padded[:h, :w] = fmap
    return padded.reshape(padded.shape[0] // factor, factor, padded.shape[1] // factor, factor).max(axis=(1, 3))


def grid_figure(
    maps: Sequence[np.ndarray],
    labels: Sequence[str],
    filters: Sequence[int],
    colormap: str = "Viridis",
    columns: int = 6,
) -> go.Figure:
    """Many small filter maps in one figure; trace i is filter ``filters[i]``."""
    count = len(maps)
    columns = max(1, min(columns, count))
    rows = max(1, math.ceil(count / columns))
    gap = 0.012
    height = max(180, 150 * rows)
    title_room = 18 / height  # paper fraction kept above each map for its label
    cell_w = (1 - gap * (columns - 1)) / columns
    cell_h = (1 - gap * (rows - 1)) / rows
    traces = []
    layout: dict[str, Any] = _plain_layout(height)
    annotations = []
    click = _("click for details")
    for i, (full, label) in enumerate(zip(maps, labels, strict=True)):
        r, c = divmod(i, columns)
        axis = "" if i == 0 else str(i + 1)
        fmap = thumbnail(full)
        q, scale = quantize(fmap, 8)
        traces.append({
            "type": "heatmap", "z": q, "zmin": 0, "zmax": 255, "colorscale": colorscale(colormap), "showscale": False,
            "xaxis": f"x{axis}", "yaxis": f"y{axis}",
            "hovertemplate": f"{label}<br>{click}<extra></extra>",
            "meta": {"scale": scale},
        })
        x0 = c * (cell_w + gap)
        y1 = 1 - r * (cell_h + gap)
        layout[f"xaxis{axis}"] = {
            "domain": [x0, x0 + cell_w], "visible": False, "range": [-0.5, fmap.shape[1] - 0.5],
        }
        layout[f"yaxis{axis}"] = {
            "domain": [y1 - cell_h, y1 - title_room], "visible": False,
            "range": [fmap.shape[0] - 0.5, -0.5],
        }
        annotations.append({
            "text": label, "x": x0 + cell_w / 2, "y": y1, "xref": "paper", "yref": "paper",
            "showarrow": False, "xanchor": "center", "yanchor": "top", "font": {"size": 11},
        })
    layout.update(annotations=annotations, meta={"kind": "grid", "filters": list(filters)})
    return _unvalidated(*traces, layout=layout)


def regions_figure(
    picture: str,
    image_width: int,
    image_height: int,
    regions: Sequence[Region],
    selected: int | None = None,
    height: int = 420,
) -> go.Figure:
    """The image with one clickable box per region, numbered by interest and
    coloured by size class; trace i is region ``regions[i]``; meta has the picture's size (assets/js/dashapp.js)."""
    traces = []
    for region in regions:
        colour = SIZE_COLOURS[region.size_class]
        chosen = region.number == selected
        traces.append({
            "type": "scatter",
            "x": [region.x0, region.x1, region.x1, region.x0, region.x0],
            "y": [region.y0, region.y0, region.y1, region.y1, region.y0],
            "mode": "lines", "fill": "toself", "hoveron": "fills",
            "line": {"color": colour, "width": 4 if chosen else 2},
            "fillcolor": _rgba(colour, 0.30 if chosen else 0.08),
            # With hoveron="fills" plotly shows only the trace name on hover,
            # so the name carries the numbers.
            "name": _("Region {number}: {size}, {area} of image, peak {peak} (click for details)").format(
                number=region.number, size=size_label(region.size_class), area=percent(region.area_fraction, 1),
                peak=significant(region.peak)),
        })
    annotations = [
        {
            "x": r.x0, "y": r.y0, "text": f"<b>{r.number} {SIZE_LETTERS[r.size_class]}</b>", "showarrow": False,
            "xanchor": "left", "yanchor": "top", "font": {"color": ink(SIZE_COLOURS[r.size_class]), "size": 13},
            "bgcolor": SIZE_COLOURS[r.size_class],
            "borderpad": 1,
        }
        for r in regions
    ]
    layout = {
        **_plain_layout(height),
        "images": [_background_image(picture, image_width, image_height)],
        "xaxis": {"range": [0, image_width], "visible": False, "constrain": "domain"},
        "yaxis": {"range": [image_height, 0], "visible": False, "scaleanchor": "x"},
        "annotations": annotations,
        "meta": dict(kind="regions", regions=[r.number for r in regions], width=image_width, height=image_height),
    }
    return _unvalidated(*traces, layout=layout)


def relative_luminance(hex_colour: str) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour "#rrggbb"."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1 contrast ratio of two colours, from 1 to 21."""
    high, low = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def ink(background: str) -> str:
    """Black or white, whichever reads better on ``background``."""
    return "#000000" if contrast_ratio("#000000", background) >= contrast_ratio("#ffffff", background) else "#ffffff"


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def channel_pictures(channels: np.ndarray) -> dict[str, np.ndarray]:
    """(3, kH, kW) weights in [-1, 1] -> the R, G and B views and the combined
    picture, each (kH, kW, 3) in [0, 1]. A channel is shown in its own colour:
    positive weights bright, negative dark."""
    views: dict[str, np.ndarray] = {}
    for c, name in enumerate(("R", "G", "B")):
        view = np.zeros((*channels.shape[1:], 3), dtype=np.float32)
        view[..., c] = 0.5 + 0.5 * channels[c]
        views[name] = view
    views["RGB"] = np.clip(0.5 + 0.5 * channels.transpose(1, 2, 0), 0, 1)
    return views


def prediction_figure(top: Sequence[dict[str, Any]], untrained: bool, height: int = 280) -> go.Figure:
    labels = [p["label"] for p in top][::-1]
    values = [p["probability"] for p in top][::-1]
    top_value = max(values, default=1.0)
    fig = go.Figure(
        go.Bar(
            x=values, y=labels, orientation="h",
            marker_color="#adb5bd" if untrained else "#0d6efd",
            text=[percent(v, 1) for v in values], textposition="auto",
            customdata=[percent(v, 2) for v in values], hovertemplate="%{y}: %{customdata}<extra></extra>",
        )
    )
    fig.update_layout(
        template="none", height=height, margin={"l": 180, "r": 20, "t": 30 if untrained else 10, "b": 40},
        xaxis={**percent_axis(top_value), "title": {"text": _("probability")}},
        showlegend=False, separators=plotly_separators(),
    )
    if untrained:
        fig.update_layout(title={"text": _("Untrained weights: these probabilities are meaningless"),
                                 "font": {"size": 13, "color": "#b02a37"}})
    return fig


PROFILE_CURRENT, PROFILE_OTHER, PROFILE_BAR = "#dc3545", "#0d6efd", "#6c757d"
PROFILE_MARGIN = {"l": 50, "r": 50, "t": 30, "b": 90}


def profile_figure(layers: Sequence[str], values: Sequence[np.ndarray], title: str, height: int = 320,
                   current: str | None = None) -> go.Figure:
    """Box plots, one per layer (the layer profile); the ``current`` layer in red."""
    fig = go.Figure(
        [go.Box(y=np.asarray(v, dtype=np.float32), name=name, boxpoints=False,
                marker_color=PROFILE_CURRENT if name == current else PROFILE_OTHER)
         for name, v in zip(layers, values, strict=True)]
    )
    fig.update_layout(template="none", height=height, margin=PROFILE_MARGIN,
                      title={"text": title, "font": {"size": 14}}, showlegend=False, separators=plotly_separators())
    return fig


def passing_figure(layers: Sequence[str], passing: Sequence[int], filters: Sequence[int], min_sparsity: float,
                   current: str | None = None, height: int = 300) -> go.Figure:
    """Filters per layer that pass the balanced ranking's sparsity cutoff."""
    fig = go.Figure(go.Bar(
        x=list(layers), y=list(passing),
        text=[f"{p}/{f}" for p, f in zip(passing, filters, strict=True)], textposition="outside",
        marker_color=[PROFILE_CURRENT if name == current else PROFILE_BAR for name in layers],
        hovertemplate=_("%{x}: %{text} filters pass") + "<extra></extra>",
    ))
    fig.update_layout(template="none", height=height, margin=PROFILE_MARGIN,
                      title={"text": _("Filters with sparsity ≥ {cutoff} (balanced ranking cutoff)").format(
                          cutoff=significant(min_sparsity, 6)), "font": {"size": 14}},
                      separators=plotly_separators())
    return fig


def class_means_figure(labels: Sequence[str], means: Sequence[float], selectivity: float | None,
                       height: int = 260) -> go.Figure:
    """A filter's mean peak per class label over a collection, the preferred class highlighted."""
    best = int(np.argmax(means)) if len(means) else -1
    fig = go.Figure(go.Bar(
        x=list(labels), y=list(means),
        marker_color=[PROFILE_CURRENT if i == best else PROFILE_BAR for i in range(len(labels))],
        hovertemplate=_("%{x}: mean peak %{y:.3g}") + "<extra></extra>",
    ))
    title = _("Mean peak per class")
    if selectivity is not None:
        title = _("Mean peak per class · class selectivity {selectivity}").format(selectivity=number(selectivity, 2))
    fig.update_layout(template="none", height=height, margin=PROFILE_MARGIN,
                      title={"text": title, "font": {"size": 14}},
                      yaxis={"title": {"text": _("mean peak")}, "rangemode": "tozero"}, separators=plotly_separators())
    return fig


def warm_up() -> None:
    """Build one figure of each kind: plotly imports its validators lazily,
    which costs about a second on the first figure of a process; pay it at
    start-up instead of in a user's first request."""
    tiny = np.ones((2, 2), dtype=np.float32)
    heatmap_figure(tiny, "", 2, 2, ReceptiveField.square(1.0, 1.0, 0.5), 2, 0)
    grid_figure([tiny], ["x"], [0])
    regions_figure("", 2, 2, [])
    prediction_figure([{"label": "x", "probability": 0.5}], untrained=True)
    profile_figure(["x"], [tiny.ravel()], "x")
    passing_figure(["x"], [1], [2], 0.1)
