"""Class evidence page: its layout and its render in Spanish (the ready state's
language), English left as it was."""

from __future__ import annotations

import re

from dash import Dash

from dashapp import i18n
from dashapp.pages import evidence
from tests.support.dash_harness import find_callback, run_callback, sync_state
from tests.support.visible_text import has_words, visible_text


def test_the_layout_speaks_the_language_of_the_context() -> None:
    with i18n.speaking("es"):
        spanish = visible_text(evidence.layout())
    for text in ("Evidencia de clase", "Sanity check", "Ejecutar el sanity check",
                 "Busca cualquiera de las clases del modelo…", "Grad-CAM pondera cada mapa"):
        assert text in spanish
    for text in ("Class evidence", "Run the sanity check", "Search any", "Grad-CAM weighs"):
        assert not has_words(text, spanish)
    english = visible_text(evidence.layout())
    assert "Class evidence" in english and "Run the sanity check" in english and "Evidencia" not in english


def test_the_render_speaks_the_ready_states_language(app: Dash) -> None:
    ready = sync_state(app, "?lang=es")["ready-state.data"]
    assert ready["lang"] == "es"
    out = run_callback(find_callback(app, "evidence-title.children"), None, ready)
    error, top, layers, title = out["error"], out["top"], out["layer_options"], out["title"]
    assert error is None
    assert top[0].children == "Las 5 primeras:"
    # Probabilities with the decimal comma: "12,3 %".
    assert all(re.search(r"\d,\d\xa0%$", button.children) for button in top[1:]), [b.children for b in top[1:]]
    assert re.match(r"Grad-CAM para «.+» en \S+ \((conv|bloque)\) \(pesos sin entrenar: mapa arbitrario\)", title)
    assert " for " not in title and "untrained" not in title
    assert any(" · bloque · " in option["label"] for option in layers)
    panel = run_callback(find_callback(app, "evidence-sanity.children"), "ready-state.data", ready, 0)["panel"]
    assert panel.children == "Aún no se ha ejecutado para esta imagen, clase, capa y método."
    assert i18n.current() == "en"  # the callback's language stayed in its own context


def test_the_render_in_english_is_as_before(app: Dash) -> None:
    ready = sync_state(app, "?lang=en")["ready-state.data"]
    out = run_callback(find_callback(app, "evidence-title.children"), None, ready)
    top, title = out["top"], out["title"]
    assert top[0].children == "Top-5:" and re.search(r"\d\.\d%$", top[1].children)
    assert re.match(r"Grad-CAM for “.+” at \S+ \((conv|block)\) \(untrained weights: arbitrary\)", title)
