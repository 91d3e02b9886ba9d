"""Overview: the page and its table in the reader's language."""

from __future__ import annotations

import json

from dash import Dash

from dashapp import i18n
from dashapp.pages import overview
from tests.support.dash_harness import alert_text, find_callback, sync_state
from tests.support.visible_text import english_sentences_in, visible_text


def table(layout: object) -> object:
    return next(node for node in _walk(layout) if getattr(node, "id", None) == "overview-table")


def number_marks(grid: object) -> dict[str, object]:
    """The d3 number locale every formatted column of the grid writes its numbers with (one for all)."""
    formatters = [c["valueFormatter"]["function"] for c in grid.columnDefs if "valueFormatter" in c]
    locales = {f.split("d3.formatLocale(", 1)[1].split(").format(", 1)[0] for f in formatters}
    assert len(formatters) == 5 and len(locales) == 1
    return json.loads(locales.pop())


def _walk(node: object) -> list[object]:
    children = getattr(node, "children", None)
    kids = children if isinstance(children, list) else [children] if children is not None else []
    return [node] + [n for kid in kids for n in _walk(kid)]


def test_the_layout_speaks_spanish_with_spanish_number_marks_in_the_table() -> None:
    with i18n.speaking("es"):
        layout = overview.layout()
    text = visible_text(layout)
    assert "Resumen" in text and "Filtros principales" in text and "Haz clic en una fila" in text
    assert [c["headerName"] for c in table(layout).columnDefs] == ["Filtro", "Puesto", "Puntuación", "Media",
                                                                    "Máximo", "Desv. típica", "Sparsity"]
    assert "Top filters" not in text and "Overview" not in text and english_sentences_in(text) == []
    marks = number_marks(table(layout))
    assert (marks["decimal"], marks["thousands"], marks["percent"]) == (",", ".", "\xa0%")


def test_the_english_layout_is_as_before() -> None:
    with i18n.speaking("en"):
        layout = overview.layout()
    text = visible_text(layout)
    assert "Overview" in text and "Top filters" in text
    assert [c["headerName"] for c in table(layout).columnDefs][:3] == ["Filter", "Rank", "Score"]
    marks = number_marks(table(layout))
    assert (marks["decimal"], marks["thousands"], marks["percent"]) == (".", ",", "%")
    # The module's columns keep their English source names: each layout translates its own copy.
    assert overview.COLUMNS[0][1] == "Filter"


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
