"""Compressed responses: Dash's versioned files once per worker, everything
else per response, fingerprinted assets cached for a year."""

from __future__ import annotations

import gzip
import json

import brotli
import pytest
from flask import Flask, Response, jsonify, send_file
from flask_compress.compat import compression

from dashapp.web import compression as compression_module
from dashapp.web.compression import YEAR, install

SCRIPT = ("function f(x) { return x * 2; }\n" * 4000).encode()
SUITE = "/_dash-component-suites/dash/dcc/plot.v4_4_1m1795954504.js"


def decode(body: bytes, encoding: str | None) -> bytes:
    if encoding == "zstd":
        return bytes(compression.zstd.decompress(body))
    if encoding == "br":
        return bytes(brotli.decompress(body))
    if encoding == "gzip":
        return gzip.decompress(body)
    assert encoding is None, encoding
    return body


@pytest.fixture
def app(tmp_path) -> Flask:  # type: ignore[no-untyped-def]
    server = Flask(__name__)
    asset = tmp_path / "style.css"
    asset.write_text("body { margin: 0; }\n" * 200)

    @server.get(SUITE)
    def suite() -> Response:
        response = Response(SCRIPT, mimetype="application/javascript")
        response.cache_control.max_age = YEAR  # what Dash sets on fingerprinted files
        return response

    @server.post("/_dash-update-component")
    def update() -> Response:
        return jsonify({"response": {"x": {"children": "text " * 1000}}})

    @server.get("/assets/css/style.css")
    def style() -> Response:
        return send_file(asset)

    @server.get("/_favicon.ico")
    def favicon() -> Response:
        return Response(b"\x00" * 64, mimetype="image/x-icon")

    install(server)
    return server


@pytest.mark.parametrize("accept,expected", [
    ("gzip, deflate, br, zstd", "zstd"),
    ("gzip, deflate, br", "br"),
    ("gzip", "gzip"),
    ("identity", None),
])
def test_versioned_files_are_compressed_with_the_best_accepted_encoding(app: Flask, accept: str,
                                                                        expected: str | None) -> None:
    client = app.test_client()
    first = client.get(SUITE, headers={"Accept-Encoding": accept})
    assert first.status_code == 200
    assert first.headers.get("Content-Encoding") == expected
    assert decode(first.data, expected) == SCRIPT
    if expected:
        assert len(first.data) < len(SCRIPT) / 10
        assert "Accept-Encoding" in first.headers["Vary"]
    assert first.cache_control.max_age == YEAR  # the long-lived cache header stays


def test_versioned_files_are_compressed_once_per_worker(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = compression_module._compress

    def counting(data: bytes, encoding: str) -> bytes:
        calls.append(encoding)
        return real(data, encoding)

    monkeypatch.setattr(compression_module, "_compress", counting)
    client = app.test_client()
    bodies = [client.get(SUITE, headers={"Accept-Encoding": "br"}).data for _ in range(3)]
    assert calls == ["br"] and bodies[0] == bodies[1] == bodies[2]
    client.get(SUITE, headers={"Accept-Encoding": "gzip"})
    assert calls == ["br", "gzip"]


def test_unfingerprinted_suite_files_are_cached_by_address(app: Flask) -> None:
    @app.get("/_dash-component-suites/plotly/package_data/plotly.min.js")
    def plotly_js() -> Response:
        response = Response(SCRIPT, mimetype="application/javascript")
        response.add_etag()  # what Dash does for a file without a fingerprint
        return response

    client = app.test_client()
    answer = client.get("/_dash-component-suites/plotly/package_data/plotly.min.js?v=4.1.1&m=1",
                        headers={"Accept-Encoding": "zstd"})
    assert answer.headers.get("Content-Encoding") == "zstd" and decode(answer.data, "zstd") == SCRIPT
    assert len(answer.data) < len(SCRIPT) / 10


def test_callback_answers_are_compressed_per_response(app: Flask) -> None:
    response = app.test_client().post("/_dash-update-component", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("Content-Encoding") == "gzip"
    assert json.loads(gzip.decompress(response.data))["response"]["x"]["children"].startswith("text ")


def test_fingerprinted_assets_are_cached_for_a_year(app: Flask) -> None:
    client = app.test_client()
    fingerprinted = client.get("/assets/css/style.css?m=1795954504", headers={"Accept-Encoding": "gzip"})
    assert fingerprinted.status_code == 200 and fingerprinted.cache_control.max_age == YEAR
    assert fingerprinted.cache_control.public
    plain = client.get("/assets/css/style.css")
    assert plain.status_code == 200 and plain.cache_control.max_age != YEAR


def test_the_versioned_favicon_is_cached_for_a_year(app: Flask) -> None:
    """Dash's favicon address carries its version; without a max-age the
    browser fetched it again after every control change."""
    client = app.test_client()
    assert client.get("/_favicon.ico?v=4.4.1").cache_control.max_age == YEAR
    assert client.get("/_favicon.ico").cache_control.max_age != YEAR


def test_small_answers_are_not_compressed(app: Flask) -> None:
    @app.post("/small")
    def small() -> Response:
        return jsonify({"ok": True})

    response = app.test_client().post("/small", headers={"Accept-Encoding": "gzip, br, zstd"})
    assert "Content-Encoding" not in response.headers and response.get_json() == {"ok": True}
