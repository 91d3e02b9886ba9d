"""Access control: DASHAPP_AUTH=basic, header and none, through the real Flask server.

Every kind of route is covered: a page, a Dash callback, an asset, the Dash
layout and the JSON API; ``/healthz`` stays open for load balancers.
Credentials must never show up in logs or in answers.
"""

from __future__ import annotations

import base64
import io
import ipaddress
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from dash import Dash
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from dashapp import create_app
from dashapp.__main__ import main as dashapp_main
from dashapp.config.settings import Settings, SettingsError, load_settings
from devtools.servers import random_png

USER, PASSWORD = "alice", "correct horse battery staple"
PROXY_SECRET = "the proxy and the app share this"
FROM_PROXY = {"X-Proxy-Secret": PROXY_SECRET}
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
    ("asset", "GET", "/assets/css/style.css", {}),
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


@pytest.fixture(scope="module")
def basic_app(make_app: Callable[..., Dash]) -> Dash:
    return make_app(auth="basic", auth_users=((USER, PASSWORD), (OTHER_USER, OTHER_PASSWORD)))


@pytest.fixture(scope="module")
def header_app(make_app: Callable[..., Dash]) -> Dash:
    return make_app(auth="header", auth_header="X-Remote-User", auth_proxy_secret=PROXY_SECRET)


@pytest.fixture(scope="module")
def trusted_proxy_app(make_app: Callable[..., Dash]) -> Dash:
    return make_app(auth="header", auth_header="X-Remote-User",
                    auth_trusted_proxies=(ipaddress.ip_network("10.20.0.0/16"), ipaddress.ip_network("fd00::7")))


@pytest.fixture(scope="module")
def open_app(make_app: Callable[..., Dash]) -> Dash:
    return make_app()


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


def test_refusals_speak_the_requests_language(basic_app: Dash, header_app: Dash) -> None:
    """create_app sets the language before any refusal is worded."""
    answer = basic_app.server.test_client().get("/api/models", headers={"Accept-Language": "es"})
    assert answer.status_code == 401 and answer.get_json()["error"] == "Se requiere autenticación."
    answer = header_app.server.test_client().get("/api/models?lang=es", headers={"X-Remote-User": "alice"})
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "Se requiere autenticación (esta petición no llegó a través del proxy)."
    answer = basic_app.server.test_client().get("/api/models")
    assert answer.get_json()["error"] == "Authentication required."


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
    before = sorted(images_dir.rglob("*.*"))
    refused = client.post("/api/images", data={"file": (io.BytesIO(image), "x.png")},
                          content_type="multipart/form-data", headers=basic(USER, "nope"))
    assert_unauthorized(refused)
    assert sorted(images_dir.rglob("*.*")) == before  # nothing stored for a stranger
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
        pytest.param(FROM_PROXY, 401, id="no-header"),
        pytest.param({**FROM_PROXY, "X-Remote-User": ""}, 401, id="empty-header"),
        pytest.param({**FROM_PROXY, "X-Forwarded-User": "alice"}, 401, id="default-header-name-not-configured"),
        pytest.param({**FROM_PROXY, "X-Remote-User": "alice"}, 200, id="header-present"),
        pytest.param({**FROM_PROXY, "x-remote-user": "alice"}, 200, id="header-lowercase"),
        # Anyone who reaches the app directly can send a user header: without the
        # proxy's secret it proves nothing.
        pytest.param({"X-Remote-User": "alice"}, 401, id="user-header-without-secret"),
        pytest.param({"X-Remote-User": "alice", "X-Proxy-Secret": ""}, 401, id="empty-secret"),
        pytest.param({"X-Remote-User": "alice", "X-Proxy-Secret": PROXY_SECRET[:-1]}, 401, id="secret-prefix"),
        pytest.param({"X-Remote-User": "alice", "X-Proxy-Secret": PROXY_SECRET + "x"}, 401, id="secret-longer"),
        pytest.param({"X-Remote-User": "alice", "X-Forwarded-User": PROXY_SECRET}, 401, id="secret-in-wrong-header"),
    ],
)
@pytest.mark.parametrize(("method", "path", "kwargs"), ROUTE_PARAMS)
def test_header_mode(header_app: Dash, method: str, path: str, kwargs: dict[str, Any], headers: dict[str, str],
                     status: int) -> None:
    response = call(header_app.server.test_client(), method, path, kwargs, headers)
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:200])
    if status == 401:
        assert response.get_json()["error"]


@pytest.mark.parametrize(
    ("remote_addr", "status"),
    [
        pytest.param("10.20.3.4", 200, id="trusted-network"),
        pytest.param("::ffff:10.20.3.4", 200, id="trusted-ipv4-mapped"),
        pytest.param("fd00::7", 200, id="trusted-ipv6"),
        pytest.param("127.0.0.1", 401, id="loopback-not-listed"),
        pytest.param("10.21.0.1", 401, id="neighbouring-network"),
        pytest.param("fd00::8", 401, id="other-ipv6"),
        pytest.param("not-an-address", 401, id="garbage"),
    ],
)
@pytest.mark.parametrize(("method", "path", "kwargs"), ROUTE_PARAMS)
def test_header_mode_trusts_only_listed_proxies(trusted_proxy_app: Dash, method: str, path: str,
                                                kwargs: dict[str, Any], remote_addr: str, status: int) -> None:
    client = trusted_proxy_app.server.test_client()
    response = client.open(path, method=method, headers={"X-Remote-User": "alice"},
                           environ_base={"REMOTE_ADDR": remote_addr}, **kwargs)
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:200])
    if status == 401:
        assert response.get_json()["error"]


def test_header_mode_with_both_needs_both(make_app: Callable[..., Dash]) -> None:
    app = make_app(auth="header", auth_proxy_secret=PROXY_SECRET,
                   auth_trusted_proxies=(ipaddress.ip_network("10.20.0.0/16"),))
    client = app.server.test_client()
    user = {"X-Forwarded-User": "alice"}
    assert client.get("/api/models", headers={**user, **FROM_PROXY},
                      environ_base={"REMOTE_ADDR": "10.20.0.1"}).status_code == 200
    assert client.get("/api/models", headers=user, environ_base={"REMOTE_ADDR": "10.20.0.1"}).status_code == 401
    assert client.get("/api/models", headers={**user, **FROM_PROXY},
                      environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 401


def test_header_mode_refuses_to_start_open_to_anyone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str],
                                                     make_settings: Callable[..., Settings]) -> None:
    words = ("DASHAPP_AUTH_PROXY_SECRET", "DASHAPP_AUTH_TRUSTED_PROXIES")
    with pytest.raises(SettingsError) as caught:
        load_settings({"DASHAPP_AUTH": "header"})
    assert all(word in str(caught.value) for word in words)
    # The app factory refuses too (settings built in code skip load_settings).
    with pytest.raises(SettingsError):
        create_app(make_settings(auth="header"))
    # And so does the command line, with a line that says what to set.
    monkeypatch.setenv("DASHAPP_AUTH", "header")
    monkeypatch.setenv("DASHAPP_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("DASHAPP_WEIGHTS", "random")
    monkeypatch.setattr(Dash, "run", lambda *_a, **_k: pytest.fail("the app started serving"))
    assert dashapp_main([]) == 2
    error = capsys.readouterr().err
    assert "Configuration error" in error and all(word in error for word in words)
    with pytest.raises(SettingsError, match="DASHAPP_AUTH_TRUSTED_PROXIES"):
        load_settings({"DASHAPP_AUTH": "header", "DASHAPP_AUTH_TRUSTED_PROXIES": "10.0.0.300"})


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
    header = load_settings({"DASHAPP_AUTH": "header", "DASHAPP_AUTH_HEADER": "X-Remote-User",
                            "DASHAPP_AUTH_PROXY_SECRET": PROXY_SECRET})
    assert header.auth == "header" and header.auth_header == "X-Remote-User"
    assert header.auth_proxy_secret == PROXY_SECRET and header.auth_proxy_secret_header == "X-Proxy-Secret"
    proxies = load_settings({"DASHAPP_AUTH": "header", "DASHAPP_AUTH_TRUSTED_PROXIES": "10.0.0.5, 10.1.0.0/16"})
    assert [str(n) for n in proxies.auth_trusted_proxies] == ["10.0.0.5/32", "10.1.0.0/16"]

