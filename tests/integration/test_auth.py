"""Access control: DASHAPP_AUTH=basic, header and none, through the real Flask server.

Every kind of route is covered: a page, a Dash callback, an asset, the Dash
layout and the JSON API; ``/healthz`` stays open for load balancers.
Credentials must never show up in logs or in answers.
"""

from __future__ import annotations

import base64
import io
import logging
import threading
from typing import Any

import pytest
import requests
from dash import Dash
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from dashapp import create_app
from dashapp.analysis.models import ModelRegistry
from dashapp.service import Analyzer
from dashapp.settings import Settings, SettingsError, load_settings
from devtools.servers import random_png

USER, PASSWORD = "alice", "correct horse battery staple"
OTHER_USER, OTHER_PASSWORD = "bob", "s3cr3t-Pa55:with:colons"

# A callback request, as the browser sends it: the weights banner for resnet18.
CALLBACK_BODY = {
    "output": "weights-banner.children",
    "outputs": {"id": "weights-banner", "property": "children"},
    "inputs": [{"id": "ready-state", "property": "data", "value": {"model": "resnet18"}}],
    "changedPropIds": ["ready-state.data"],
    "state": [],
}

# (name, method, path, request keyword arguments); each must answer 200 when allowed.
ROUTES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("page", "GET", "/", {}),
    ("page-detail", "GET", "/detail", {}),
    ("dash-callback", "POST", "/_dash-update-component", {"json": CALLBACK_BODY}),
    ("asset", "GET", "/assets/style.css", {}),
    ("dash-layout", "GET", "/_dash-layout", {}),
    ("dash-dependencies", "GET", "/_dash-dependencies", {}),
    ("api-models", "GET", "/api/models", {}),
]
ROUTE_PARAMS = [pytest.param(method, path, kwargs, id=name) for name, method, path, kwargs in ROUTES]


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


WRONG_CREDENTIALS = [
    pytest.param({}, id="none"),
    pytest.param(basic(USER, "wrong password"), id="wrong-password"),
    pytest.param(basic(USER, PASSWORD.upper()), id="password-wrong-case"),
    pytest.param(basic(USER, PASSWORD + " "), id="password-trailing-space"),
    pytest.param(basic(USER, ""), id="empty-password"),
    pytest.param(basic("mallory", PASSWORD), id="unknown-user"),
    pytest.param(basic("", PASSWORD), id="empty-user"),
    pytest.param(basic(USER.upper(), PASSWORD), id="user-wrong-case"),
    pytest.param(basic(USER, OTHER_PASSWORD), id="other-users-password"),
    pytest.param({"Authorization": "Basic !!!not-base64!!!"}, id="malformed-base64"),
    pytest.param({"Authorization": "Basic " + base64.b64encode(USER.encode()).decode()}, id="no-colon"),
    pytest.param({"Authorization": "Basic"}, id="scheme-only"),
    pytest.param({"Authorization": f"Bearer {PASSWORD}"}, id="bearer"),
    pytest.param({"Authorization": f"Digest username={USER}"}, id="digest"),
    pytest.param({"Authorization": "Basic " + "A" * 20_000}, id="huge-header"),
    pytest.param({"Authorization": f"{USER}:{PASSWORD}"}, id="no-scheme-plain"),
]


def make_app(tmp_path_factory: pytest.TempPathFactory, registry: ModelRegistry, **overrides: Any) -> Dash:
    settings = Settings(data_dir=tmp_path_factory.mktemp("auth") / "data", weights="random", device="cpu",
                        **overrides)
    return create_app(settings, Analyzer(settings, registry=registry))


@pytest.fixture(scope="module")
def basic_app(tmp_path_factory: pytest.TempPathFactory, registry: ModelRegistry) -> Dash:
    return make_app(tmp_path_factory, registry, auth="basic",
                    auth_users=((USER, PASSWORD), (OTHER_USER, OTHER_PASSWORD)))


@pytest.fixture(scope="module")
def header_app(tmp_path_factory: pytest.TempPathFactory, registry: ModelRegistry) -> Dash:
    return make_app(tmp_path_factory, registry, auth="header", auth_header="X-Remote-User")


@pytest.fixture(scope="module")
def open_app(tmp_path_factory: pytest.TempPathFactory, registry: ModelRegistry) -> Dash:
    return make_app(tmp_path_factory, registry)


def call(client: FlaskClient, method: str, path: str, kwargs: dict[str, Any],
         headers: dict[str, str] | None = None) -> Any:
    return client.open(path, method=method, headers=headers or {}, **kwargs)


def assert_unauthorized(response: Any, *, challenge: bool = True) -> None:
    assert response.status_code == 401, (response.status_code, response.get_data(as_text=True)[:200])
    if challenge:
        assert response.headers.get("WWW-Authenticate", "").startswith("Basic realm=")
    body = response.get_json()
    assert body and body["error"]
    text = response.get_data(as_text=True)
    assert PASSWORD not in text and OTHER_PASSWORD not in text


# --------------------------------------------------------------------------- basic


@pytest.mark.parametrize("headers", WRONG_CREDENTIALS)
@pytest.mark.parametrize(("method", "path", "kwargs"), ROUTE_PARAMS)
def test_basic_refuses_missing_or_wrong_credentials(basic_app: Dash, method: str, path: str,
                                                    kwargs: dict[str, Any], headers: dict[str, str]) -> None:
    assert_unauthorized(call(basic_app.server.test_client(), method, path, kwargs, headers))


@pytest.mark.parametrize("user", [(USER, PASSWORD), (OTHER_USER, OTHER_PASSWORD)], ids=["alice", "bob"])
@pytest.mark.parametrize(("method", "path", "kwargs"), ROUTE_PARAMS)
def test_basic_admits_correct_credentials(basic_app: Dash, method: str, path: str, kwargs: dict[str, Any],
                                          user: tuple[str, str]) -> None:
    response = call(basic_app.server.test_client(), method, path, kwargs, basic(*user))
    assert response.status_code == 200, (response.status_code, response.get_data(as_text=True)[:200])
    assert "WWW-Authenticate" not in response.headers


def test_basic_protects_uploads_and_analysis(basic_app: Dash) -> None:
    client = basic_app.server.test_client()
    image = random_png(7)
    images_dir = basic_app.server.extensions["dashapp.analyzer"].settings.images_dir
    before = sorted(images_dir.rglob("*.png"))
    refused = client.post("/api/images", data={"file": (io.BytesIO(image), "x.png")},
                          content_type="multipart/form-data", headers=basic(USER, "nope"))
    assert_unauthorized(refused)
    assert sorted(images_dir.rglob("*.png")) == before  # nothing stored for a stranger
    accepted = client.post("/api/images", data={"file": (io.BytesIO(image), "x.png")},
                           content_type="multipart/form-data", headers=basic(USER, PASSWORD))
    assert accepted.status_code == 201
    sha = accepted.get_json()["sha256"]
    query = f"/api/analysis?image={sha}&model=alexnet&layer=features.0&n=2"
    assert_unauthorized(client.get(query))
    assert client.get(query, headers=basic(USER, PASSWORD)).status_code == 200


@pytest.mark.parametrize("path", ["/healthz"])
def test_healthz_stays_open(basic_app: Dash, header_app: Dash, path: str) -> None:
    for app in (basic_app, header_app):
        response = app.server.test_client().get(path)
        assert response.status_code == 200 and response.get_json()["status"] == "ok"


@pytest.mark.parametrize("path", ["/healthz/", "/healthz/../api/models", "/Healthz", "//healthz", "/healthz.json",
                                  "/healthz%2F", "/api/models?x=/healthz"])
def test_near_misses_of_the_open_path_stay_closed(basic_app: Dash, path: str) -> None:
    assert_unauthorized(basic_app.server.test_client().get(path))


def test_credentials_never_reach_the_logs(basic_app: Dash, caplog: pytest.LogCaptureFixture) -> None:
    """Failed and successful logins, in-process and over real HTTP (werkzeug's access log on)."""
    secrets = [PASSWORD, OTHER_PASSWORD, base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
               base64.b64encode(f"{USER}:wrong-{PASSWORD}".encode()).decode()]
    client = basic_app.server.test_client()
    server = make_server("127.0.0.1", 0, basic_app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with caplog.at_level(logging.DEBUG):
            assert_unauthorized(client.get("/api/models", headers=basic(USER, "wrong-" + PASSWORD)))
            assert client.get("/api/models", headers=basic(USER, PASSWORD)).status_code == 200
            assert client.post("/_dash-update-component", json=CALLBACK_BODY,
                               headers=basic(USER, PASSWORD)).status_code == 200
            # A refused request by a signed-in user: its log must not carry the header either.
            assert client.get("/api/analysis?layer=x", headers=basic(USER, PASSWORD)).status_code == 400
            with requests.Session() as session:
                session.trust_env = False  # never a proxy: this goes to 127.0.0.1 only
                assert session.get(f"{base}/api/models", auth=(USER, "wrong-" + PASSWORD), timeout=30).status_code \
                    == 401
                assert session.get(f"{base}/api/models", auth=(USER, PASSWORD), timeout=30).status_code == 200
                assert session.get(f"{base}/", auth=(USER, PASSWORD), timeout=30).status_code == 200
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    access = [record for record in caplog.records if record.name == "werkzeug"]
    assert len(access) >= 3, "the access log was not captured: this test would prove nothing"
    logged = caplog.text + "\n".join(str(record.args) for record in caplog.records)
    for secret in secrets:
        assert secret not in logged


# --------------------------------------------------------------------------- header


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({}, 401, id="no-header"),
        pytest.param({"X-Remote-User": ""}, 401, id="empty-header"),
        pytest.param({"X-Forwarded-User": "alice"}, 401, id="default-header-name-not-configured"),
        pytest.param({"X-Remote-User": "alice"}, 200, id="header-present"),
        pytest.param({"x-remote-user": "alice"}, 200, id="header-lowercase"),
    ],
)
@pytest.mark.parametrize(("method", "path", "kwargs"), ROUTE_PARAMS)
def test_header_mode(header_app: Dash, method: str, path: str, kwargs: dict[str, Any], headers: dict[str, str],
                     status: int) -> None:
    response = call(header_app.server.test_client(), method, path, kwargs, headers)
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:200])
    if status == 401:
        assert response.get_json()["error"]


# --------------------------------------------------------------------------- none (the default)


@pytest.mark.parametrize(("method", "path", "kwargs"), ROUTE_PARAMS)
def test_no_auth_by_default(open_app: Dash, method: str, path: str, kwargs: dict[str, Any]) -> None:
    assert Settings().auth == "none"
    response = call(open_app.server.test_client(), method, path, kwargs)
    assert response.status_code == 200
    assert "WWW-Authenticate" not in response.headers


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("env", "words"),
    [
        pytest.param({"DASHAPP_AUTH": "basic"}, ("DASHAPP_AUTH_USERS",), id="basic-without-users"),
        pytest.param({"DASHAPP_AUTH": "basic", "DASHAPP_AUTH_USERS": " "}, ("DASHAPP_AUTH_USERS",),
                     id="basic-with-blank-users"),
        pytest.param({"DASHAPP_AUTH": "kerberos"}, ("DASHAPP_AUTH", "none, basic or header"), id="unknown-mode"),
    ],
)
def test_settings_refuse_unusable_auth(env: dict[str, str], words: tuple[str, ...]) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    message = str(caught.value)
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    "users",
    [
        pytest.param("alice:hunter2,bob", id="entry-without-password"),
        pytest.param("alice:hunter2,:hunter2", id="entry-without-user"),
    ],
)
def test_settings_error_for_bad_users_does_not_echo_passwords(users: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"DASHAPP_AUTH": "basic", "DASHAPP_AUTH_USERS": users})
    message = str(caught.value)
    assert "DASHAPP_AUTH_USERS" in message and "user:password" in message
    # The message ends up in start-up logs: it must not carry the passwords it refused.
    assert "hunter2" not in message, message


def test_valid_auth_settings_load() -> None:
    settings = load_settings({"DASHAPP_AUTH": "BASIC", "DASHAPP_AUTH_USERS": f"{USER}:{PASSWORD}, bob:pw"})
    assert settings.auth == "basic" and settings.auth_users == ((USER, PASSWORD), ("bob", "pw"))
    header = load_settings({"DASHAPP_AUTH": "header", "DASHAPP_AUTH_HEADER": "X-Remote-User"})
    assert header.auth == "header" and header.auth_header == "X-Remote-User"

