"""The shell: the page's language, labelled controls, colormap notes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dash import dcc, html

from dashapp.state.schema import COLORMAPS, FIELD, SCHEMA
from dashapp.ui.layout.shell import COLORMAP_NOTES, DOCUMENT, colormap_options, shell, sidebar
from dashapp.web.plotly_bundle import PLOTLY_PATH


def walk(component: Any) -> list[Any]:
    found = [component]
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found.extend(walk(child))
    return found


def test_the_page_template_keeps_dash_placeholders_and_leaves_the_language_to_each_request() -> None:
    for placeholder in ("{%metas%}", "{%title%}", "{%css%}", "{%app_entry%}", "{%config%}", "{%scripts%}",
                        "{%renderer%}"):
        assert placeholder in DOCUMENT
    assert '<html lang="{%lang%}">' in DOCUMENT  # i18n/negotiation.py fills it
    # plotly.js runs as soon as it arrives, and dcc's lazily loaded components come with the page's scripts.
    assert f'<script src="{PLOTLY_PATH}" async></script>' in DOCUMENT
    for chunk in ("async-graph.js", "async-dropdown.js", "async-slider.js", "async-upload.js"):
        assert f'<link rel="preload" href="/_dash-component-suites/dash/dcc/{chunk}" as="script">' in DOCUMENT
        # dcc still has it under that name (a renamed chunk would be fetched twice, once in vain)
        assert (Path(dcc.__file__).parent / chunk).is_file(), chunk


def test_every_sidebar_control_has_a_label() -> None:
    tree = walk(sidebar(["resnet18", "alexnet"], {"chelsea.png": "0" * 64}, 10_000_000))
    labelled = {c.htmlFor for c in tree if isinstance(c, html.Label)}
    labelled |= {getattr(c, "data-labels", None) for c in tree} - {None}
    controls = {c.id for c in tree if isinstance(c, dcc.Dropdown | dcc.Slider | dcc.Upload)
                or type(c).__name__ in ("Select", "Input")}
    assert controls and controls <= labelled, controls - labelled


def by_id(tree: list[Any], kind: type[Any]) -> dict[str, Any]:
    return {c.id: c for c in tree if isinstance(c, kind)}


def test_each_fields_control_is_in_the_sidebar_with_the_fields_range() -> None:
    tree = walk(sidebar(["resnet18", "alexnet"], {"chelsea.png": "0" * 64}, 10_000_000))
    ids = {c.id for c in tree if getattr(c, "id", None)}
    assert set(SCHEMA.controls.values()) <= ids, set(SCHEMA.controls.values()) - ids
    sliders = by_id(tree, dcc.Slider)
    field_of = {control: key for key, control in SCHEMA.controls.items()}
    assert set(sliders) == {control for key, control in SCHEMA.controls.items() if FIELD[key].step}
    for control, slider in sliders.items():
        f = FIELD[field_of[control]]
        assert (slider.min, slider.max, slider.step, slider.value) == (f.low, f.high, f.step, f.default), control
        assert min(slider.marks) == f.low and max(slider.marks) == f.high, control
    assert (sliders["ctl-n"].min, sliders["ctl-n"].max, sliders["ctl-min-sparsity"].max) == (1, 24, 0.8)
    assert list(sliders["ctl-n"].marks) == [1, 6, 12, 18, 24]


def test_the_browser_is_told_which_fields_it_restyles_alone() -> None:
    stores = by_id(walk(shell([], ["resnet18"], {}, 1, html.Div())), dcc.Store)
    assert stores["display-fields"].data == SCHEMA.browser_display()
    assert [field["key"] for field in stores["display-fields"].data] == ["opacity", "colormap"]


def test_colormaps_say_which_are_uniform_and_colour_blind_safe() -> None:
    options = {o["value"]: o["label"] for o in colormap_options()}
    assert set(options) == set(COLORMAPS) and set(COLORMAP_NOTES) >= set(COLORMAPS)
    for name in ("Viridis", "Cividis", "Inferno", "Plasma"):
        assert "perceptually uniform, colour-blind-safe" in options[name]
    for name in ("Jet", "Hot"):
        assert "not uniform, not colour-blind-safe" in options[name]


def shown_texts(component: Any) -> list[str]:
    """Every text of a component tree a reader sees or hears: children,
    option labels, placeholders, titles, alt and aria-label."""
    texts: list[str] = []
    for c in walk(component):
        children = getattr(c, "children", None)
        texts.extend(child for child in (children if isinstance(children, list) else [children])
                     if isinstance(child, str))
        for prop in ("placeholder", "title", "alt", "aria-label"):
            if isinstance(getattr(c, prop, None), str):
                texts.append(getattr(c, prop))
        for option in getattr(c, "options", None) or []:
            texts.append(option["label"])
        marks = getattr(c, "marks", None)
        if isinstance(marks, dict):
            texts.extend(str(mark) for mark in marks.values())
    return [text.strip() for text in texts if text.strip()]


def test_the_sidebar_in_spanish_has_no_english_label_left() -> None:
    from dashapp import i18n

    models = ["resnet18", "alexnet"]
    with i18n.speaking("en"):
        english = shown_texts(sidebar(models, {"chelsea.png": "0" * 64}, 10_000_000))
    with i18n.speaking("es"):
        spanish = shown_texts(sidebar(models, {"chelsea.png": "0" * 64}, 10_000_000))
    assert len(spanish) == len(english) > 40
    # Words are translated; what stays is a name (a model), a plain number, or
    # the field's own word that Spanish ML readers use as it is (the seed's README.es).
    kept = [en for en, es in zip(english, spanish, strict=True) if en == es and any(ch.isalpha() for ch in en)]
    assert set(kept) <= {*models, "Ranking", "ranking CSV", "ranking JSON"}, kept
    assert "Modelo y capa" in spanish and "Ranking" in spanish and "Mapa de colores" in spanish
    assert "equilibrado — activación y selectividad" in spanish
    assert "Viridis — perceptualmente uniforme, apto para daltonismo" in spanish
    assert "0,5" in spanish and "0.5" in english  # slider marks in the reader's locale


def test_the_shell_carries_the_browser_scripts_words_in_the_page_language() -> None:
    import json

    from dashapp import i18n
    from dashapp.ui.layout.shell import shell

    with i18n.speaking("es"):
        page = shell([{"path": "/", "name": "Overview"}], ["resnet18"], {"chelsea.png": "0" * 64}, 10_000_000,
                     html.Div())
    (element,) = [c for c in walk(page) if getattr(c, "id", None) == "ui-strings"]
    words = json.loads(getattr(element, "data-strings"))
    assert words["decimal"] == ","
    assert words["copyLink"] == "Copiar el enlace a esta vista"
    assert words["hover"].startswith("{name}: respuesta {value} (percentil {percentile} de este mapa)")
    assert "Saltar al contenido" in shown_texts(page)
