"""Compare page: its layout and render in Spanish (the ready state's
language), English left as it was."""

from __future__ import annotations

import re

from dash import Dash

from dashapp import i18n
from dashapp.pages import compare
from tests.support.dash_harness import find_callback, run_callback, sync_state
from tests.support.visible_text import has_words, visible_text


def test_the_layout_speaks_the_language_of_the_context() -> None:
    with i18n.speaking("es"):
        spanish = visible_text(compare.layout())
    for text in ("Comparar", "Filtros que responden de forma más distinta", "por pico de respuesta",
                 "por respuesta media", "Perfil de capas de los dos", "Cada par de mapas comparte una escala"):
        assert text in spanish
    for text in ("Compare", "Filters that respond", "by peak", "by mean", "Layer profile", "colour scale"):
        assert not has_words(text, spanish)
    assert "Filters that respond most differently" in visible_text(compare.layout())


def test_the_render_speaks_the_ready_states_language(app: Dash) -> None:
    ready = sync_state(app, "?lang=es&n=2")["ready-state.data"]
    out = run_callback(find_callback(app, "cmp-summary.children"), None, ready, "peak")
    assert out["error"] is None
    assert "No has elegido una segunda imagen: se compara con el ejemplo" in visible_text(out["notices"])
    text = visible_text(out["summary"])
    for spanish in ("Predicción (pesos sin entrenar: sin sentido)", "Estadísticas de la capa", "Respuesta media",
                    "Respuesta máxima", "Desv. típica", "Sparsity"):
        assert spanish in text
    assert re.search(r"\d,\d\xa0%", text) and not re.search(r"\d\.\d%", text)  # 12,3 %, not 12.3%
    assert "Prediction" not in text and "Mean response" not in text
    headings = visible_text(out["pairs"])
    assert re.search(r"Filtro \d+ · B − A = [+-]\S+ · escala común 0–\S+", headings)
    assert "A: pico " in headings and "abrir detalle" in headings and "open detail" not in headings
    assert out["mean"].layout.title.text == "Respuesta media de cada filtro, por capa"
    assert out["sparsity"].layout.title.text == "Sparsity de cada filtro, por capa"
    english = run_callback(find_callback(app, "cmp-summary.children"), None,
                           sync_state(app, "?lang=en&n=2")["ready-state.data"], "mean")
    assert "Layer statistics" in visible_text(english["summary"]) and "B: mean " in visible_text(english["pairs"])


def test_two_architectures_render_predictions_evidence_and_profiles(app: Dash) -> None:
    ready = sync_state(app, "?model=resnet18&model2=alexnet&layer=layer2.0.conv1")["ready-state.data"]
    out = run_callback(find_callback(app, "cmp-summary.children"), None, ready, "peak")
    assert out["error"] is None and out["head_hidden"] is True
    summary = visible_text(out["summary"])
    assert "Two architectures" in summary and "Layer statistics" not in summary
    pairs = visible_text(out["pairs"])
    assert re.search(r"Evidence for “[^”]+” \(Grad-CAM\)", pairs)
    assert "A: resnet18 · layer4" in pairs and "B: alexnet · features.10" in pairs
    xs = {str(x) for trace in out["mean"].data for x in trace.x}
    assert "A layer2.0.conv1" in xs and "B features.0" in xs and len(out["mean"].data) == 2


def test_the_second_model_is_offered_once_each_and_never_the_first() -> None:
    options = compare.second_model_options(("resnet18", "alexnet"), "resnet18")
    labels = [o["label"] for o in options]
    assert labels == ["second model: the same", "second model: alexnet"]
    assert [o["value"] for o in options] == ["", "alexnet"]


def test_an_uploaded_second_image_keeps_its_file_name() -> None:
    options = [{"label": "rocket", "value": "f" * 64}, {"label": "Upload: holiday photo.jpeg", "value": "a" * 64},
               {"label": 3, "value": "b" * 64}, "junk"]
    assert compare.upload_names(options) == {"a" * 64: "holiday photo.jpeg"}
    assert compare.upload_names(None) == {} and compare.upload_names({"label": "Upload: x"}) == {}
    with i18n.speaking("es"):
        spanish = i18n._("Upload: {name}").format(name="gato.png")
        assert compare.upload_names([{"label": spanish, "value": "c" * 64}]) == {"c" * 64: "gato.png"}
