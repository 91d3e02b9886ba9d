"""Feature visualization page: its layout and tiles in Spanish (the ready
state's language), English left as it was."""

from __future__ import annotations

from dash import Dash

from dashapp import i18n
from dashapp.pages import featurevis
from tests.support.dash_harness import find_callback, run_callback, sync_state
from tests.support.visible_text import has_words, visible_text


def test_the_layout_speaks_the_language_of_the_context() -> None:
    with i18n.speaking("es"):
        spanish = visible_text(featurevis.layout())
    for text in ("Visualización de características", "Calcular las visualizaciones que faltan", "Cancelar",
                 "mapa entero (canal)", "celda central (neurona)", "4 imágenes diversas",
                 "vista previa en directo de la optimización"):
        assert text in spanish
    for text in ("Feature visualization", "Compute missing", "Cancel", "whole map", "centre cell", "diverse images",
                 "live preview"):
        assert not has_words(text, spanish)
    english = visible_text(featurevis.layout())
    assert "Feature visualization" in english and "whole map (channel)" in english


def test_the_tiles_and_notices_speak_the_ready_states_language(app: Dash) -> None:
    render = find_callback(app, "fv-tiles.children")
    ready = sync_state(app, "?lang=es")["ready-state.data"]
    out = run_callback(render, None, ready, "channel", None)
    assert out["error"] is None and out["tiles"] and out["targets"]["filters"]
    text = visible_text(out["tiles"])
    assert "aún sin calcular" in text and "#1 · filtro " in text and "en esta foto " in text
    assert "not computed" not in text and "on this photo" not in text and "filter" not in text
    assert "Pesos sin entrenar" in visible_text(out["notices"])
    # A job's error comes back in the done store, already in the job's language.
    failed = run_callback(render, None, ready, "channel", {"error": "La visualización falló."})
    assert "La visualización falló." in visible_text(failed["notices"])
    english = visible_text(run_callback(render, None, sync_state(app, "?lang=en")["ready-state.data"],
                                        "channel", None)["tiles"])
    assert "not computed yet" in english and "#1 · filter " in english
