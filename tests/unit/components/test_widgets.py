"""Shared widgets: the words beside a heatmap, the region buttons."""

from __future__ import annotations

import numpy as np

from dashapp.analysis.graph import ReceptiveField
from dashapp.components.widgets import heatmap_slot, map_description, region_buttons
from dashapp.figures import heatmap_figure
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
