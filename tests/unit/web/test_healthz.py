"""/healthz: a status word for load balancers; the model and cache counters only
to an authenticated request, or to anyone when DASHAPP_HEALTHZ_DETAILS says so."""

from __future__ import annotations

import base64
from collections.abc import Callable

from dashapp.service import Analyzer
from tests.unit.web.test_headers import hooked

USER, PASSWORD = "alice", "a-password"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
WRONG = {"Authorization": "Basic " + base64.b64encode(f"{USER}:wrong".encode()).decode()}


def test_without_auth_only_the_status_word(make_analyzer: Callable[..., Analyzer]) -> None:
    client = hooked(make_analyzer()).server.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/healthz", headers=AUTH).get_json() == {"status": "ok"}


def test_with_auth_the_counters_to_authenticated_requests_only(make_analyzer: Callable[..., Analyzer]) -> None:
    client = hooked(make_analyzer(auth="basic", auth_users=((USER, PASSWORD),))).server.test_client()
    for headers in ({}, WRONG):
        answer = client.get("/healthz", headers=headers)
        assert answer.status_code == 200 and answer.get_json() == {"status": "ok"}
    detailed = client.get("/healthz", headers=AUTH).get_json()
    assert detailed["status"] == "ok" and "cache" in detailed and "models" in detailed


def test_header_mode_counts_only_what_the_proxy_vouches_for(make_analyzer: Callable[..., Analyzer]) -> None:
    secret = "the proxy and the app share this"
    client = hooked(make_analyzer(auth="header", auth_proxy_secret=secret)).server.test_client()
    forged = client.get("/healthz", headers={"X-Forwarded-User": "mallory"}).get_json()
    assert forged == {"status": "ok"}
    vouched = client.get("/healthz", headers={"X-Forwarded-User": "alice", "X-Proxy-Secret": secret}).get_json()
    assert "cache" in vouched


def test_the_setting_opens_the_counters(make_analyzer: Callable[..., Analyzer]) -> None:
    client = hooked(make_analyzer(healthz_details=True)).server.test_client()
    assert set(client.get("/healthz").get_json()) == {"status", "models", "cache"}
