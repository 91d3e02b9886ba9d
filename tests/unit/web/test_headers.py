"""dashapp/web/headers.py: every response says no other site may frame the app,
no content is sniffed into a script and no URL leaks to other sites; teams that
embed the app name their own pages (DASHAPP_FRAME_ANCESTORS)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from dash import Dash, html

from dashapp import web
from dashapp.service import Analyzer

USER, PASSWORD = "alice", "a-password"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}


def hooked(service: Analyzer) -> Dash:
    """A Dash app with every web hook create_app installs (web.install), without loading a model."""
    app = Dash(__name__, serve_locally=True)
    app.layout = html.Div("page")
    web.install(app, service, service.settings)
    return app


@pytest.fixture(scope="module")
def app(make_analyzer: Callable[..., Analyzer]) -> Dash:
    return hooked(make_analyzer())


REQUESTS = [
    pytest.param("get", "/", {}, id="page"),
    pytest.param("get", "/api/models", {}, id="api"),
    pytest.param("get", "/api/nothing-here", {}, id="api-404"),
    pytest.param("get", "/_dash-layout", {}, id="dash-layout"),
    pytest.param("get", "/healthz", {}, id="healthz"),
    pytest.param("post", "/api/images", {"Origin": "https://evil.example"}, id="cross-site-refusal"),
]


@pytest.mark.parametrize(("method", "path", "headers"), REQUESTS)
def test_every_response_forbids_framing_and_sniffing(app: Dash, method: str, path: str,
                                                      headers: dict[str, str]) -> None:
    response = getattr(app.server.test_client(), method)(path, headers=headers)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_a_refused_login_carries_them_too(make_analyzer: Callable[..., Analyzer]) -> None:
    app = hooked(make_analyzer(auth="basic", auth_users=((USER, PASSWORD),)))
    response = app.server.test_client().get("/")
    assert response.status_code == 401
    assert response.headers["X-Frame-Options"] == "DENY"


def test_named_embedding_pages_replace_deny(make_analyzer: Callable[..., Analyzer]) -> None:
    app = hooked(make_analyzer(frame_ancestors=("https://wiki.example.org", "https://*.example.org")))
    response: Any = app.server.test_client().get("/")
    assert response.headers["Content-Security-Policy"] == "frame-ancestors https://wiki.example.org https://*.example.org"
    assert "X-Frame-Options" not in response.headers  # it cannot name pages: it would forbid them all
    assert response.headers["X-Content-Type-Options"] == "nosniff"
