"""dashapp/web/crossorigin.py: with DASHAPP_PUBLIC_URL the app's origin is the
configured one, not whatever Host header a request names; and a GET that starts
costly work (a sanity check) is refused to other sites' pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from dashapp.config.settings import Settings
from dashapp.service import Analyzer
from dashapp.web import crossorigin
from tests.unit.web.test_headers import hooked

PUBLIC = "https://analyzer.example.org"


def tiny(settings: Settings) -> Flask:
    server = Flask(__name__)
    server.add_url_rule("/change", "change", lambda: "changed", methods=["POST"])
    crossorigin.install(server, settings)
    return server


@pytest.mark.parametrize(("origin", "host", "refused"), [
    pytest.param("https://evil.example", "evil.example", True, id="host-forged-to-match-origin"),
    pytest.param("http://analyzer.example.org", "analyzer.example.org", True, id="other-scheme"),
    pytest.param("https://analyzer.example.org:8443", "analyzer.example.org:8443", True, id="other-port"),
    pytest.param("https://analyzer.example.org", "10.0.0.5:8050", False, id="own-origin-behind-a-proxy"),
    pytest.param("https://ANALYZER.example.org:443", "internal", False, id="own-origin-explicit-port"),
])
def test_the_public_origin_decides_not_the_host_header(origin: str, host: str, refused: bool) -> None:
    server = tiny(Settings(public_url=PUBLIC))
    answer = server.test_client().post("/change", headers={"Origin": origin, "Host": host})
    assert (answer.status_code == 403) is refused


def test_without_it_the_host_header_is_compared() -> None:
    client = tiny(Settings()).test_client()
    assert client.post("/change", headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.post("/change", headers={"Origin": "http://localhost"}).status_code == 200


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site"},  # what an <img src> on another site's page sends
    {"Origin": "https://evil.example"},
])
def test_a_cross_site_get_cannot_start_a_sanity_check(make_analyzer: Callable[..., Analyzer],
                                                      headers: dict[str, str]) -> None:
    service = make_analyzer()
    client = hooked(service).server.test_client()
    answer = client.get("/api/sanity?model=alexnet&layer=features.10&class=1&image=0", headers=headers)
    assert answer.status_code == 403 and "Cross-site" in answer.get_json()["error"]
    # The same request from a script or the app's own page reaches the route (and fails there: no such image).
    own = client.get("/api/sanity?model=alexnet&layer=features.10&class=1&image=0",
                     headers={"Sec-Fetch-Site": "same-origin"})
    assert own.status_code != 403
    # A page view's GETs are not refused.
    assert client.get("/api/models", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200
