"""Overview: the page and its table in the reader's language."""

from __future__ import annotations

from dash import Dash

from dashapp import i18n
from dashapp.pages import overview
from tests.support.dash_harness import alert_text, find_callback, sync_state
from tests.support.visible_text import english_sentences_in, visible_text


def table(layout: object) -> object:
    return next(node for node in _walk(layout) if getattr(node, "id", None) == "overview-table")


def _walk(node: object) -> list[object]:
    children = getattr(node, "children", None)
    kids = children if isinstance(children, list) else [children] if children is not None else []
    return [node] + [n for kid in kids for n in _walk(kid)]


def test_the_layout_speaks_spanish_with_spanish_number_marks_in_the_table() -> None:
    with i18n.speaking("es"):
        layout = overview.layout()
    text = visible_text(layout)
    assert "Resumen" in text and "Filtros principales" in text and "Haz clic en una fila" in text
    assert [c["name"] for c in table(layout).columns] == ["Filtro", "Puesto", "Puntuación", "Media", "Máximo",
                                                           "Desv. típica", "Sparsity"]
    assert "Top filters" not in text and "Overview" not in text and english_sentences_in(text) == []
    marks = table(layout).locale_format
    assert (marks["decimal"], marks["group"], marks["percent"]) == (",", ".", "\xa0%")


def test_the_english_layout_is_as_before() -> None:
    with i18n.speaking("en"):
        layout = overview.layout()
    text = visible_text(layout)
    assert "Overview" in text and "Top filters" in text
    assert [c["name"] for c in table(layout).columns][:3] == ["Filter", "Rank", "Score"]
    assert table(layout).locale_format == {"decimal": ".", "group": ",", "percent": "%"}
    # The module's columns keep their English source names: each layout translates its own copy.
    assert overview.COLUMNS[0]["name"] == "Filter"


def test_the_cards_speak_the_language_of_the_ready_state(app: Dash) -> None:
    ready = sync_state(app, "")["view-state.data"]
    render = find_callback(app, "overview-cards.children")
    with i18n.speaking("en"):
        spanish = alert_text(render({**ready, "lang": "es"})["cards"])
        english = alert_text(render({**ready, "lang": "en"})["cards"])
    assert "Predicción (sin entrenar: no significa nada)" in spanish and "de confianza" in spanish
    assert "campo receptivo" in spanish and "Respuesta media" in spanish and "Sparsity" in spanish
    assert "confidence" not in spanish and "receptive field" not in spanish
    # Percentages in the Spanish way ("37,5 %"), in the English way in English.
    assert "\xa0%" in spanish and "Prediction (untrained: meaningless)" in english and "\xa0%" not in english
