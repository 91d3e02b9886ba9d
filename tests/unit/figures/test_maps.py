"""Figure builders: geometry in image pixels, compact payloads, meta for hovers."""

from __future__ import annotations

import base64
import json

import numpy as np
import plotly.io as pio
import pytest
from PIL import Image

from dashapp import i18n
from dashapp.analysis.maps.regions import Region
from dashapp.analysis.models.graph import ReceptiveField
from dashapp.figures.maps import (
    SIZE_COLOURS,
    channel_pictures,
    class_means_figure,
    contrast_ratio,
    grid_figure,
    heatmap_figure,
    ink,
    passing_figure,
    picture_uri,
    prediction_figure,
    profile_figure,
    quantize,
    regions_figure,
)

RF = ReceptiveField.square(size=51.0, jump=8.0, start=0.5)


def test_quantize_keeps_zeros_and_scale() -> None:
    fmap = np.array([[0.0, 1.0], [2.0, 4.0]], dtype=np.float32)
    q, scale = quantize(fmap, 16)
    assert q.dtype == np.uint16 and q[0, 0] == 0 and q.max() == 65535
    np.testing.assert_allclose(q * scale, fmap, atol=scale)
    q8, _ = quantize(np.zeros((3, 3)), 8)
    assert q8.dtype == np.uint8 and q8.max() == 0


def test_heatmap_geometry_is_in_original_pixels_and_compact() -> None:
    fmap = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    picture = picture_uri(Image.new("RGB", (451, 300), "red"))
    fig = heatmap_figure(fmap, picture, 451, 300, RF, 224, filter_index=38)
    trace = fig.data[0]
    # Cells sit where their receptive fields are centred (start + j * jump, scaled
    # per axis), not stretched evenly: x0 = 0.5 * 451 / 224, dx = 8 * 451 / 224.
    assert trace.dx == pytest.approx(8 * 451 / 224) and trace.dy == pytest.approx(8 * 300 / 224)
    assert trace.x0 == pytest.approx(0.5 * 451 / 224) and trace.y0 == pytest.approx(0.5 * 300 / 224)
    assert tuple(fig.layout.yaxis.range) == (300, 0)  # row 0 on top
    meta = fig.layout.meta
    assert meta["filter"] == 38 and meta["name"] == "Filter 38" and meta["width"] == 451
    assert meta["geometry"]["dx"] == pytest.approx(8.0 * 451 / 224)
    payload = pio.to_json(fig)
    # The map travels as a base64 typed array, not as nested lists.
    assert '"bdata"' in payload and '"dtype":"u2"' in payload
    assert len(payload) < 28 * 28 * 2 * 1.4 + len(picture) + 4000
    data = json.loads(payload)["data"][0]["z"]
    decoded = np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.uint16).reshape(28, 28)
    np.testing.assert_allclose(decoded * meta["scale"], fmap, atol=meta["scale"])


def test_picture_is_small_webp() -> None:
    uri = picture_uri(Image.new("RGB", (4000, 3000), "blue"))
    assert uri.startswith("data:image/webp;base64,")
    image = Image.open(__import__("io").BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert max(image.size) == 320


def test_grid_has_one_trace_per_filter_and_labels() -> None:
    maps = [np.full((8, 8), float(i + 1), dtype=np.float32) for i in range(24)]
    labels = [f"#{i} · rank {i + 1}" for i in range(24)]
    fig = grid_figure(maps, labels, list(range(24)))
    assert len(fig.data) == 24 and fig.layout.meta["filters"] == list(range(24))
    assert [a.text for a in fig.layout.annotations] == labels
    assert all(t.z.dtype == np.uint8 for t in fig.data)
    assert len(pio.to_json(fig)) < 400_000


def test_regions_are_numbered_and_coloured_by_size() -> None:
    regions = [
        Region(1, 10, 20, 30, 40, 2.0, 1.5, 0.01, "small", 0.9),
        Region(2, 0, 0, 400, 300, 1.0, 0.6, 0.5, "very large", 0.3),
    ]
    fig = regions_figure("data:,", 451, 300, regions, selected=1)
    assert len(fig.data) == 2
    assert list(fig.data[0].x) == [10, 30, 30, 10, 10] and list(fig.data[0].y) == [20, 20, 40, 40, 20]
    assert fig.data[0].line.color != fig.data[1].line.color
    assert fig.data[0].line.width > fig.data[1].line.width
    # The size class is told by a letter as well as by colour, in ink that reads on its colour.
    assert [a.text for a in fig.layout.annotations] == ["<b>1 S</b>", "<b>2 XL</b>"]
    for annotation in fig.layout.annotations:
        assert contrast_ratio(annotation.font.color, annotation.bgcolor) >= 4.5


def test_contrast_ratio_matches_the_wcag_reference_values() -> None:
    # Reference values from the WCAG 2.1 definition: black on white is 21:1,
    # a colour on itself 1:1, #767676 on white the AA limit of 4.54:1.
    assert contrast_ratio("#000000", "#ffffff") == 21.0
    assert contrast_ratio("#ffd600", "#ffd600") == 1.0
    assert round(contrast_ratio("#767676", "#ffffff"), 2) == 4.54
    assert ink("#ffd600") == "#000000" and ink("#d50000") == "#ffffff"
    for colour in SIZE_COLOURS.values():
        assert contrast_ratio(ink(colour), colour) >= 4.5, colour


def test_heatmap_meta_tells_the_map_in_words() -> None:
    fmap = np.zeros((8, 8), dtype=np.float32)
    fmap[7, 0] = 3.0
    fig = heatmap_figure(fmap, None, 200, 100, RF, 224, filter_index=12)
    assert fig.layout.meta["description"] == (
        "Filter 12: peak response 3 in the lower left of the image; silent on 98% of it.")
    named = heatmap_figure(fmap, None, 200, 100, RF, 224, filter_index=1, subject="Grad-CAM for goldfish")
    assert named.layout.meta["description"].startswith("Grad-CAM for goldfish: peak response 3")


def test_channel_pictures_show_each_colour_in_its_channel() -> None:
    channels = np.zeros((3, 3, 3), dtype=np.float32)
    channels[0, 1, 1] = 1.0
    views = channel_pictures(channels)
    assert views["R"][1, 1, 0] == 1.0 and views["R"][1, 1, 1] == 0.0
    assert views["G"][1, 1, 1] == 0.5 and views["RGB"][1, 1].tolist() == [1.0, 0.5, 0.5]


def test_prediction_figure_labels_untrained() -> None:
    top = [{"label": "tabby", "probability": 0.6}, {"label": "tiger cat", "probability": 0.3}]
    fig = prediction_figure(top, untrained=True)
    assert "meaningless" in fig.layout.title.text
    assert list(fig.data[0].y) == ["tiger cat", "tabby"]
    assert prediction_figure(top, untrained=False).layout.title.text is None


def test_large_maps_travel_as_8_bit_and_grid_tiles_are_pooled() -> None:
    from dashapp.figures.maps import thumbnail

    big = np.zeros((112, 112), dtype=np.float32)
    big[5, 7] = 3.0
    fig = heatmap_figure(big, None, 451, 300, RF, 224, 0)
    assert fig.data[0].z.dtype == np.uint8 and fig.layout.meta["shared_picture"] is True
    small = thumbnail(big)
    assert small.shape == (56, 56) and small.max() == 3.0  # max-pooling keeps the single peak
    assert thumbnail(np.ones((28, 28))).shape == (28, 28)


def test_maps_drawn_with_one_zmax_share_one_colour_scale() -> None:
    weak = np.array([[0.0, 1.0], [0.5, 2.0]], dtype=np.float32)
    strong = np.array([[0.0, 4.0], [1.0, 3.0]], dtype=np.float32)
    figures = [heatmap_figure(m, None, 40, 40, RF, 224, 7, zmax=4.0) for m in (weak, strong)]
    metas = [f.layout.meta for f in figures]
    assert metas[0]["zmax"] == metas[1]["zmax"] == pytest.approx(4.0)
    assert metas[0]["scale"] == metas[1]["scale"] and figures[0].data[0].zmax == figures[1].data[0].zmax
    # The weak map's peak (2.0) sits at half the scale, not at its top.
    z = np.asarray(figures[0].data[0].z)
    assert z.max() * metas[0]["scale"] == pytest.approx(2.0, rel=1e-4) and z.max() < figures[0].data[0].zmax / 2 + 1
    # Without zmax each map's own peak is the top (the other pages).
    own = heatmap_figure(weak, None, 40, 40, RF, 224, 7)
    assert own.layout.meta["zmax"] == pytest.approx(2.0)


def test_values_above_zmax_are_clipped_to_the_top() -> None:
    q, scale = quantize(np.array([[1.0, 9.0]], dtype=np.float32), 8, top=3.0)
    assert q.tolist() == [[85, 255]] and scale == pytest.approx(3.0 / 255)


def test_unvalidated_figures_pass_plotly_validation() -> None:
    """The map figures skip plotly.py's validation for speed; every property
    they carry must still be one plotly accepts (an unknown one raises here)."""
    import plotly.graph_objects as go

    fmap = np.random.default_rng(1).random((12, 12)).astype(np.float32)
    regions = [Region(1, 10, 20, 30, 40, 2.0, 1.5, 0.01, "small", 0.9)]
    for fig in (
        heatmap_figure(fmap, None, 451, 300, RF, 224, 3),
        grid_figure([fmap, fmap], ["a", "b"], [0, 1]),
        regions_figure("data:,", 451, 300, regions, selected=1),
    ):
        checked = go.Figure(fig.to_dict())  # validating constructor
        assert checked.layout.meta == fig.layout.meta
        assert len(checked.data) == len(fig.data)


def every_figure() -> dict[str, object]:
    fmap = np.zeros((8, 8), dtype=np.float32)
    fmap[0, 7] = 0.25
    regions = [Region(1, 10, 20, 30, 40, 2.5, 1.5, 0.031, "small", 0.9)]
    return {
        "heatmap": heatmap_figure(fmap, None, 200, 100, RF, 224, filter_index=12),
        "grid": grid_figure([fmap], ["12"], [12]),
        "regions": regions_figure("data:,", 451, 300, regions),
        "prediction": prediction_figure([{"label": "tabby", "probability": 0.125}], untrained=True),
        "profile": profile_figure(["conv1"], [fmap.ravel()], "title"),
        "passing": passing_figure(["conv1"], [3], [8], 0.15),
        "class_means": class_means_figure(["cat", "dog"], [0.5, 0.25], 0.333),
    }


@pytest.mark.parametrize(("language", "separators"), [("en", ".,"), ("es", ",.")])
def test_every_figure_carries_the_readers_decimal_mark(language: str, separators: str) -> None:
    with i18n.speaking(language):
        figures = every_figure()
    for name, fig in figures.items():
        assert fig.layout.separators == separators, name  # type: ignore[attr-defined]


def test_figures_speak_spanish() -> None:
    with i18n.speaking("es"):
        figures = every_figure()
    meta = figures["heatmap"].layout.meta  # type: ignore[attr-defined]
    assert meta["name"] == "Filtro 12"
    assert meta["description"] == ("Filtro 12: respuesta máxima de 0,25 en la zona superior derecha de la imagen; el "
                                   "98\xa0% de la imagen queda en silencio.")
    assert figures["grid"].data[0].hovertemplate == "12<br>haz clic para ver detalles<extra></extra>"  # type: ignore[attr-defined]
    assert figures["regions"].data[0].name == (  # type: ignore[attr-defined]
        "Región 1: pequeña, 3,1\xa0% de la imagen, pico 2,5 (haz clic para ver detalles)")
    prediction = figures["prediction"]
    assert prediction.layout.title.text == "Pesos sin entrenar: estas probabilidades no significan nada"  # type: ignore[attr-defined]
    assert prediction.layout.xaxis.title.text == "probabilidad"  # type: ignore[attr-defined]
    assert list(prediction.data[0].text) == ["12,5\xa0%"]  # type: ignore[attr-defined]
    passing = figures["passing"]
    assert passing.layout.title.text == "Filtros con sparsity ≥ 0,15 (umbral del ranking equilibrado)"  # type: ignore[attr-defined]
    assert passing.data[0].hovertemplate == "%{x}: pasan %{text} filtros<extra></extra>"  # type: ignore[attr-defined]
    means = figures["class_means"]
    assert means.layout.title.text == "Pico medio por clase · selectividad de clase 0,33"  # type: ignore[attr-defined]
    assert means.layout.yaxis.title.text == "pico medio"  # type: ignore[attr-defined]


def test_figures_in_english_read_as_before() -> None:
    figures = every_figure()
    assert figures["regions"].data[0].name == (  # type: ignore[attr-defined]
        "Region 1: small, 3.1% of image, peak 2.5 (click for details)")
    assert figures["passing"].layout.title.text == "Filters with sparsity ≥ 0.15 (balanced ranking cutoff)"  # type: ignore[attr-defined]
    assert figures["class_means"].layout.title.text == "Mean peak per class · class selectivity 0.33"  # type: ignore[attr-defined]
    assert figures["heatmap"].layout.meta["name"] == "Filter 12"  # type: ignore[attr-defined]
