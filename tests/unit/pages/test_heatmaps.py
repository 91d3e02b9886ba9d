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


def test_the_layer_bundle_speaks_the_language_of_the_ready_state(app: Dash) -> None:
    """The titles, picker labels and map words the browser writes (assets/js/ranking.js) come in the
    ready state's language: its templates, number marks and each map's description."""
    ready = sync_state(app, "")["view-state.data"]
    render = find_callback(app, "heat-layer.data")
    with i18n.speaking("en"):
        spanish = render({**ready, "lang": "es"}, None)["bundle"]
        english = render({**ready, "lang": "en"}, None)["bundle"]
    assert spanish["key"] != english["key"] and spanish["key"].endswith("|es")
    words = spanish["words"]
    assert words["title"] == "#{rank} · filtro {index} · puntuación {score} · sparsity {sparsity}"
    assert words["option"] == "#{rank} · filtro {index}" and words["name"] == "Filtro {index}"
    # "0,734" and "41 %": a decimal comma, the % after a no-break space.
    assert words["marks"] == {"decimal": ",", "group": ".", "percentPrefix": "", "percentSuffix": "\xa0%"}
    assert english["words"]["marks"] == {"decimal": ".", "group": ",", "percentPrefix": "", "percentSuffix": "%"}
    assert all(re.match(r"Filtro \d+: ", d) for d in spanish["descriptions"])
    assert all(re.match(r"Filter \d+: ", d) for d in english["descriptions"])
    assert english_sentences_in(" ".join(spanish["descriptions"])) == []
