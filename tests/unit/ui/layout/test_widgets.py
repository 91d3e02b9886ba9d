"""Shared widgets: the words beside a heatmap, the region buttons, in the reader's language."""

from __future__ import annotations

import numpy as np

from dashapp import i18n
from dashapp.analysis.models.graph import ReceptiveField
from dashapp.figures.maps import heatmap_figure
from dashapp.ui.layout.widgets import fmt, heatmap_slot, kernel_note, map_description, region_buttons, worded
from dashapp.wording.regions import size_label
from tests.support.dash_harness import alert_text

RF = ReceptiveField.square(size=11.0, jump=4.0, start=1.5)


def test_a_slot_built_with_its_figure_already_carries_the_words() -> None:
    fmap = np.zeros((6, 6), dtype=np.float32)
    fmap[0, 5] = 2.0
    figure = heatmap_figure(fmap, None, 120, 120, RF, 224, filter_index=9)
    expected = "Filter 9: peak response 2 in the upper right of the image; silent on 97% of it."
    assert map_description(figure) == expected
    assert map_description(figure.to_plotly_json()) == expected  # as the browser's store holds it
    slot = heatmap_slot("x", figure=figure)
    described = [c for c in slot.children if c is not None and getattr(c, "className", "") == "map-description"]
    assert [c.children for c in described] == [expected]


def test_no_figure_no_words() -> None:
    assert map_description(None) == "" and map_description({"layout": {}}) == ""
    assert map_description({"layout": {"meta": {"kind": "grid"}}}) == ""


def test_region_buttons_start_with_what_they_show_and_add_the_numbers() -> None:
    regions = [
        {"number": 1, "size_class": "small", "area_fraction": 0.012, "peak": 0.8261},
        {"number": 2, "size_class": "very large", "area_fraction": 0.41, "peak": 0.5},
    ]
    buttons = region_buttons(regions).children[1:]
    assert [b.id for b in buttons] == [{"type": "region-button", "index": 0}, {"type": "region-button", "index": 1}]
    assert alert_text(buttons[0]) == "Region 1 · S small · 1.2%  of the image, peak 0.826"
    assert alert_text(buttons[1]).startswith("Region 2 · XL very large · 41.0% ")
    assert "No region" in alert_text(region_buttons([]))


def test_region_buttons_fmt_and_the_kernel_note_speak_spanish() -> None:
    regions = [{"number": 1, "size_class": "very large", "area_fraction": 0.412, "peak": 0.8261}]
    with i18n.speaking("es"):
        group = region_buttons(regions)
        assert alert_text(group.children[1]).replace("\xa0", " ") == (
            "Región 1 · MG muy grande · 41,2 %  de la imagen, pico 0,826")
        assert alert_text(group.children[0]) == "Regiones:"
        assert getattr(group, "aria-label") == "Regiones de este filtro"
        assert alert_text(region_buttons([])).startswith("Ninguna región")
        assert (fmt(0.8261), fmt(12.0), fmt(3.0e-5)) == ("0,826", "12", "0,00003")
        assert [size_label(c) for c in ("small", "medium", "large")] == ["pequeña", "mediana", "grande"]
        note = alert_text(kernel_note("layer1.0.conv1", 64))
        assert note.startswith("layer1.0.conv1 recibe 64 mapas de características de capas anteriores")
        assert alert_text(kernel_note("features.3", 1)).startswith("features.3 recibe 1 mapa de características ")
    with i18n.speaking("en"):
        assert (fmt(0.8261), size_label("very large")) == ("0.826", "very large")
        assert alert_text(kernel_note("layer1.0.conv1", 64)).startswith("layer1.0.conv1 takes 64 feature maps")


def test_worded_puts_components_where_the_language_wants_them() -> None:
    link = object()
    assert worded("Choose a collection on the {link} to see more.", link=link) == [
        "Choose a collection on the ", link, " to see more."]
    assert worded("{link}: elige una colección", link=link) == [link, ": elige una colección"]
    assert worded("Abre la {link}.", link=link) == ["Abre la ", link, "."]
