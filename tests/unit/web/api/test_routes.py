"""API errors: ``{"error": message}`` in the request's language, the keys unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from dash import Dash, html

from dashapp.i18n import negotiation as language
from dashapp.web import crossorigin
from dashapp.web.api import routes as api


@pytest.fixture()
def app(analyzer: Any) -> Dash:
    # The server's request hooks as create_app installs them, without a model load.
    app = Dash(__name__, serve_locally=True)
    app.layout = html.Div("page")
    language.install(app)
    api.install(app.server, analyzer)
    crossorigin.install(app.server, analyzer.settings)
    return app


def error_of(answer: Any) -> str:
    body = answer.get_json()
    assert set(body) == {"error"}  # the key stays English whatever the language
    return body["error"]


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/analysis?layer=conv1", {"Accept-Language": "es-ES,es;q=0.9"}),
        ("/api/analysis?layer=conv1&lang=es", {}),
        ("/api/analysis?layer=conv1&lang=es", {"Accept-Language": "en"}),  # the link beats the browser
    ],
)
def test_an_api_error_is_in_spanish_when_the_request_asks_for_it(app: Dash, path: str,
                                                                  headers: dict[str, str]) -> None:
    answer = app.server.test_client().get(path, headers=headers)
    assert answer.status_code == 400
    assert error_of(answer) == "image es obligatorio: el identificador que devuelve POST /api/images."


def test_an_api_error_is_in_english_by_default_and_for_an_english_browser(app: Dash) -> None:
    client = app.server.test_client()
    for headers in ({}, {"Accept-Language": "en-GB,en;q=0.9"}, {"Accept-Language": "de"}):
        answer = client.get("/api/analysis?layer=conv1", headers=headers)
        assert error_of(answer) == "image is required: the id answered by POST /api/images."


def test_not_found_and_bad_state_errors_translate_with_their_values(app: Dash) -> None:
    client = app.server.test_client()
    sha = "ab" * 32
    answer = client.get("/api/nothing-here?lang=es")
    assert answer.status_code == 404 and error_of(answer).startswith("Esa ruta de la API no existe.")
    answer = client.get(f"/api/analysis?image={sha}&model=vgg99&layer=conv1", headers={"Accept-Language": "es"})
    assert answer.status_code == 404
    assert error_of(answer) == "Modelo desconocido 'vgg99'; disponibles: resnet18, alexnet."
    answer = client.get(f"/api/analysis?image={sha}&layer=conv1&n=2.5&lang=es")
    assert answer.status_code == 400
    assert error_of(answer) == "n debe ser un número entero de 1 a 64; se recibió '2.5'."
    answer = client.get(f"/api/analysis?image={sha}&layer=conv1&min_sparsity=2&lang=es")
    assert error_of(answer) == "min_sparsity debe ser un número de 0 a 0,8; se recibió '2'."  # decimal comma
    # A language the interface does not speak is refused like any bad value (and said in the browser's).
    answer = client.get(f"/api/analysis?image={sha}&layer=conv1&lang=fr", headers={"Accept-Language": "es"})
    assert answer.status_code == 400 and "'fr'" in error_of(answer) and "en, es" in error_of(answer)
    assert error_of(answer).startswith(("No existe el idioma", "Idioma desconocido")), error_of(answer)


def test_a_refused_upload_and_a_cross_site_request_answer_in_spanish(app: Dash) -> None:
    client = app.server.test_client()
    answer = client.post("/api/images?lang=es", data=b"", content_type="image/png")
    assert answer.status_code == 400
    assert error_of(answer) == "El archivo está vacío. Elige un archivo de imagen."
    assert error_of(client.get("/api/nothing-here?lang=en")).startswith("No such API route")
    # Refused before the request's language is set: the refusal negotiates it itself.
    answer = client.post("/api/images", data=b"x", content_type="image/png",
                         headers={"Origin": "https://elsewhere.example", "Accept-Language": "es"})
    assert answer.status_code == 403 and error_of(answer).startswith("Se rechazan las peticiones desde otros sitios")
