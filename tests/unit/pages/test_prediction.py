"""Prediction: the certainty sentence, the warning and the ImageNet note in the reader's language."""

from __future__ import annotations

import pytest
from dash import Dash

from dashapp import i18n
from dashapp.pages import prediction
from tests.support.dash_harness import find_callback, sync_state
from tests.support.visible_text import english_sentences_in, visible_text


@pytest.mark.parametrize(("top", "spanish", "english"), [
    (0.9, "El modelo está seguro", "The model is confident"),
    (0.6, "El modelo está bastante seguro", "The model is fairly sure"),
    (0.3, "El modelo duda", "The model is uncertain"),
    (0.1, "El modelo está adivinando", "The model is guessing"),
])
def test_every_certainty_band_is_one_whole_sentence_in_each_language(top: float, spanish: str, english: str) -> None:
    with i18n.speaking("es"):
        assert prediction.certainty(top, 0.05) == (
            f"{spanish}: la clase principal tiene un {i18n.percent(top, 1)}, con {i18n.percent(top - 0.05, 1)} "
            "de ventaja sobre la siguiente.")
    with i18n.speaking("en"):
        assert prediction.certainty(top, 0.05) == (
            f"{english}: the top class has {top:.1%}, {top - 0.05:.1%} ahead of the next.")


def test_spanish_percentages_use_a_decimal_comma() -> None:
    with i18n.speaking("es"):
        assert prediction.certainty(0.853, 0.1).replace("\xa0", " ") == (
            "El modelo está seguro: la clase principal tiene un 85,3 %, con 75,3 % de ventaja sobre la siguiente.")


def test_the_layout_speaks_spanish() -> None:
    with i18n.speaking("es"):
        text = visible_text(prediction.layout())
    assert "Predicción" in text and "Sobre ImageNet" in text and "unas 120 razas de perro" in text
    assert "About ImageNet" not in text and english_sentences_in(text) == []


def test_the_reading_speaks_the_language_of_the_ready_state(app: Dash) -> None:
    ready = sync_state(app, "")["view-state.data"]
    with i18n.speaking("en"):
        out = find_callback(app, "prediction-reading.children")({**ready, "lang": "es"})
    reading, links = out["reading"], out["links"]
    text = visible_text(reading)
    assert "Estas cifras no significan nada" in text and "Clase principal:" in text and "El modelo" in text
    assert "meaningless" not in text and "Top class" not in text
    assert visible_text(links).startswith("¿Dónde está la evidencia?")
