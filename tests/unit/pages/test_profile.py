"""Layer profile: the page, the figure titles and the table in the reader's language."""

from __future__ import annotations

from dash import Dash

from dashapp import i18n
from dashapp.pages import profile
from tests.support.dash_harness import find_callback, sync_state
from tests.support.visible_text import english_sentences_in, visible_text


def test_the_layout_speaks_spanish() -> None:
    with i18n.speaking("es"):
        text = visible_text(profile.layout())
    assert "Perfil de capas" in text and "Filtros más fuertes por capa" in text and "Haz clic en la caja" in text
    assert "Layer profile" not in text and english_sentences_in(text) == []


def test_titles_and_table_speak_the_language_of_the_ready_state(app: Dash) -> None:
    ready = sync_state(app, "")["view-state.data"]
    with i18n.speaking("en"):
        out = find_callback(app, "profile-table.children")({**ready, "lang": "es"})
    sparsity, mean, table, names = out["sparsity"], out["mean"], out["table"], out["layers"]
    assert sparsity.layout.title.text == "Sparsity de cada filtro, por capa"
    assert mean.layout.title.text == "Respuesta media de cada filtro, por capa"
    text = visible_text(table)
    for header in ("Capa", "Filtros", "Superan el corte", "Sparsity mediana", "Más fuertes (por media)"):
        assert header in text
    assert "Median sparsity" not in text
    medians = [row.children[3].children for row in table.children[1].children]
    assert len(medians) == len(names) and all(m.endswith("\xa0%") for m in medians)
