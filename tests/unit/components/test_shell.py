"""The shell: the page's language, labelled controls, colormap notes."""

from __future__ import annotations

from typing import Any

import pytest
from dash import dcc, html

from dashapp.components.shell import COLORMAP_NOTES, colormap_options, document, sidebar
from dashapp.state import COLORMAPS


def walk(component: Any) -> list[Any]:
    found = [component]
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found.extend(walk(child))
    return found


def test_document_sets_the_interface_language_and_keeps_dash_placeholders() -> None:
    page = document("en")
    assert '<html lang="en">' in page
    assert '<html lang="es">' in document("es")
    for placeholder in ("{%metas%}", "{%title%}", "{%css%}", "{%app_entry%}", "{%config%}", "{%scripts%}",
                        "{%renderer%}"):
        assert placeholder in page
    assert "{%lang%}" not in page


@pytest.mark.parametrize("bad", ['en" onload="x', "", "e n"])
def test_document_refuses_what_is_not_a_language_tag(bad: str) -> None:
    with pytest.raises(ValueError):
        document(bad)


def test_every_sidebar_control_has_a_label() -> None:
    tree = walk(sidebar(["resnet18", "alexnet"], {"chelsea.png": "0" * 64}, 10_000_000))
    labelled = {c.htmlFor for c in tree if isinstance(c, html.Label)}
    labelled |= {getattr(c, "data-labels", None) for c in tree} - {None}
    controls = {c.id for c in tree if isinstance(c, dcc.Dropdown | dcc.Slider | dcc.Upload)
                or type(c).__name__ in ("Select", "Input")}
    assert controls and controls <= labelled, controls - labelled


def test_colormaps_say_which_are_uniform_and_colour_blind_safe() -> None:
    options = {o["value"]: o["label"] for o in colormap_options()}
    assert set(options) == set(COLORMAPS) and set(COLORMAP_NOTES) >= set(COLORMAPS)
    for name in ("Viridis", "Cividis", "Inferno", "Plasma"):
        assert "perceptually uniform, colour-blind-safe" in options[name]
    for name in ("Jet", "Hot"):
        assert "not uniform, not colour-blind-safe" in options[name]
