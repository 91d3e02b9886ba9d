"""Dataset page: its layout, the scan's status and the upload report in
Spanish (the ready state's language), English left as it was."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from dash import Dash

from dashapp import i18n
from dashapp.collections.demo import DEMO_NAME
from dashapp.collections.sources import Rejected
from dashapp.pages import dataset
from dashapp.ui.layout.dataset_widgets import progress_text
from tests.support.dash_harness import find_callback, run_callback, sync_state
from tests.support.visible_text import has_words, visible_text


def test_the_layout_speaks_the_language_of_the_context() -> None:
    with i18n.speaking("es"):
        spanish = visible_text(dataset.layout())
    for text in ("Elige una colección", "Suelta aquí imágenes o un zip, o ", "elige archivos",
                 "Colección de demostración", "Escanear", "Cancelar", "Ordenar filtros por", "Pico",
                 "Tasa de activación", "Selectividad de clase"):
        assert text in spanish
    for text in ("Collection", "Choose", "Drop images", "Demo", "Scan", "Cancel", "Sort", "Peak", "Firing rate"):
        assert not has_words(text, spanish)
    english = visible_text(dataset.layout())
    assert "Demo collection" in english and "Firing rate" in english


def test_the_scan_status_speaks_the_ready_states_language(app: Dash) -> None:
    job = find_callback(app, "dataset-status.children")
    ready = sync_state(app, "?lang=es")["ready-state.data"]
    assert run_callback(job, "ready-state.data", ready)["status"] == "Primero elige o crea una colección."
    ready = sync_state(app, "?lang=en")["ready-state.data"]
    assert run_callback(job, "ready-state.data", ready)["status"] == "Choose or create a collection first."


@pytest.mark.parametrize(("status", "spanish"), [
    ({"state": "done", "done": 12, "total": 12}, "Escaneada: 12 imágenes."),
    ({"state": "running", "done": 3, "total": 1200, "rate": 2.5, "eta_s": 478.6},
     "Escaneando: 3 de 1.200 imágenes · 2,5 imágenes/s · quedan unos 479 s."),
    ({"state": "queued", "done": 0, "total": 1, "waiting": True},
     "Escaneando: 0 de 1 imagen · esperando a un proceso libre."),
    ({"state": "cancelled", "done": 3, "total": 12}, "Escaneo cancelado en 3 de 12 imágenes."),
    ({"state": "interrupted", "done": 3, "total": 12}, "Escaneo interrumpido en 3 de 12 imágenes"),
    ({"state": "failed", "done": 0, "total": 12}, "El escaneo falló: error desconocido."),
    ({"state": "none", "done": 0, "total": 1}, "Aún no se ha escaneado con este modelo (1 imagen)."),
])
def test_progress_text_in_spanish(status: dict[str, object], spanish: str) -> None:
    with i18n.speaking("es"):
        assert spanish in progress_text(status)


def test_progress_text_in_english_is_as_before() -> None:
    status = {"state": "running", "done": 3, "total": 12, "rate": 2.5, "eta_s": 4.4}
    assert progress_text(status) == "Scanning: 3 of 12 images · 2.5 images/s · about 4 s left."


def test_the_upload_report_names_the_demo_and_counts_in_spanish() -> None:
    collection = SimpleNamespace(name=DEMO_NAME, images=[object()] * 5,
                                 rejected=[Rejected("a.zip", "archivo comprimido anidado omitido")])
    with i18n.speaking("es"):
        text = visible_text(dataset._rejected_note(collection))
    assert "Demo: fotografías de scikit-image: 5 imágenes; 1 archivo omitido:" in text
    collection.rejected = []
    with i18n.speaking("es"):
        assert visible_text(dataset._rejected_note(collection)) == "Demo: fotografías de scikit-image: 5 imágenes."
    assert visible_text(dataset._rejected_note(collection)) == "Demo: scikit-image photographs: 5 images."
