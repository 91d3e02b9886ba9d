"""Heatmaps: the page, the map titles and the picker in the reader's language."""

from __future__ import annotations

import re

from dash import Dash

from dashapp import i18n
from dashapp.pages import heatmaps
from tests.support.dash_harness import find_callback, sync_state
from tests.support.visible_text import english_sentences_in, visible_text


def test_the_layout_speaks_spanish() -> None:
    with i18n.speaking("es"):
        text = visible_text(heatmaps.layout())
    assert "Mapas de calor" in text and "Ampliar uno" in text and "Filtro para ampliar" in text
    assert "Pasa el cursor sobre un mapa" in text and "haz clic en un mapa" in text
    assert "Heatmaps" not in text and "Enlarge one" not in text and english_sentences_in(text) == []


def test_the_titles_and_the_picker_speak_the_language_of_the_ready_state(app: Dash) -> None:
    ready = sync_state(app, "")["view-state.data"]
    render = find_callback(app, "heat-grid.className")
    with i18n.speaking("en"):
        spanish = render({**ready, "lang": "es"}, None)
        english = render({**ready, "lang": "en"}, None)
    titles, options = spanish["bases"]["titles"], spanish["options"]
    assert len(titles) == len(options) == ready["n"]
    # "#1 · filtro 12 · puntuación 0,734 · sparsity 41 %": decimal comma, the % after a space.
    for title in titles:
        assert re.fullmatch(r"#\d+ · filtro \d+ · puntuación \d+,\d{3} · sparsity \d+\xa0%", title), title
    assert all(re.fullmatch(r"#\d+ · filtro \d+", o["label"]) for o in options)
    english_titles = english["bases"]["titles"]
    assert all(re.fullmatch(r"#\d+ · filter \d+ · score \d+\.\d{3} · sparsity \d+%", t) for t in english_titles)
