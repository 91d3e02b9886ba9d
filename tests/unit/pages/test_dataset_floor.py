"""The Dataset page offers the selectivity sort's minimum firing rate, at the
service's default, in the reader's language."""

from __future__ import annotations

from dash import dcc

from dashapp import i18n
from dashapp.pages import dataset
from dashapp.service.dataset import MIN_FIRING_RATE
from tests.support.visible_text import visible_text


def find(component: object, wanted: str) -> object | None:
    if getattr(component, "id", None) == wanted:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found = find(child, wanted)
            if found is not None:
                return found
    return None


def test_the_minimum_firing_rate_box_starts_at_the_services_default() -> None:
    box = find(dataset.layout(), "dataset-min-firing")
    assert box is not None and not isinstance(box, dcc.Dropdown)
    assert box.value == round(100 * MIN_FIRING_RATE) == 10 and (box.min, box.max) == (0, 100)
    assert "Selectivity sort: minimum firing rate (%)" in visible_text(dataset.layout())
    with i18n.speaking("es"):
        assert "Orden por selectividad: tasa de activación mínima (%)" in visible_text(dataset.layout())
