"""Kernels & patches: the page, the patches and the kernel note in the reader's language."""

from __future__ import annotations

from dash import Dash

from dashapp import i18n
from dashapp.pages import kernels
from tests.support.dash_harness import find_callback, sync_state
from tests.support.visible_text import english_sentences_in, visible_text


def test_the_layout_speaks_spanish() -> None:
    with i18n.speaking("es"):
        text = visible_text(kernels.layout())
    assert "Kernels y parches" in text and "Patrones RGB" in text and "Mejores parches" in text
    assert "Kernels & patches" not in text and "Top patches" not in text and english_sentences_in(text) == []


def test_a_deep_layer_says_why_its_kernels_have_no_colour_in_spanish(app: Dash) -> None:
    ready = sync_state(app, "")["view-state.data"]  # layer2.0.conv1: 64 maps in, no RGB
    render = find_callback(app, "kernels-patterns.children")
    with i18n.speaking("en"):
        spanish = render({**ready, "lang": "es"})
        english = render({**ready, "lang": "en"})["patterns"]
    patterns, patches = spanish["patterns"], spanish["patches"]
    note = visible_text(patterns)
    assert note.startswith("layer2.0.conv1 recibe 64 mapas de características") and "primera capa" in note
    assert visible_text(english).startswith("layer2.0.conv1 takes 64 feature maps from earlier layers")
    words = visible_text(patches)
    assert "filtro" in words and ("respuesta" in words or "no responde" in words)
    assert " filter " not in words and "response " not in words


def test_the_first_layer_shows_patterns_with_spanish_alt_texts(app: Dash) -> None:
    ready = sync_state(app, "?layer=conv1")["view-state.data"]
    render = find_callback(app, "kernels-patterns.children")
    with i18n.speaking("es"):
        patterns = render({**ready, "lang": "es"})["patterns"]
    text = visible_text(patterns)
    assert "Patrón RGB del filtro" in text and "RGB pattern" not in text
