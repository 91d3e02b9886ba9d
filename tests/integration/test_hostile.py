"""Hostile input end to end: through the JSON API and through the pages' callbacks.

Every payload goes in by each way a user has: a multipart upload and a raw
body to ``POST /api/images``, the upload callback called as a function, and the
same callback through Dash's own HTTP endpoint. Every case asserts a clear
message (no internals), the exact status (a 4xx, or the expected success) and
that the next good request (upload an example, analyse it) still answers.

URL cases never leave the machine: forbidden addresses are refused before any
connection (a guard around ``socket.create_connection`` records and blocks any
attempt to a non-loopback address, and name resolution is faked), and the
servers that do get contacted all listen on 127.0.0.1.

The module prints ``hostile cases: N run, N passed`` when it ends.
"""

from __future__ import annotations

import functools
import io
import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from dash import Dash, no_update
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image

from dashapp.intake import AddressPolicy, image_sha256
from dashapp.service import Analyzer, ImageLibrary
from dashapp.state.schema import FIELD, MAX_N
from devtools.servers import wait_for
from tests.support import dash_harness as harness
from tests.support import fake_network as net
from tests.support import hostile as h
from tests.support.fake_network import ConnectionGuard, FakeResolver, LoopbackHTTPServer, SilentServer

MAX_MIN_SPARSITY = FIELD["min_sparsity"].high

LOOPBACK = AddressPolicy(allow_loopback=True)
GOOD_QUERY = "model=alexnet&layer=features.0&n=2"
SMALL_LIMIT = 20_000  # bytes, for the app whose upload limit is tiny
FUZZ_EXAMPLES = 200

# --------------------------------------------------------------------------- tally

TALLY = {"run": 0, "passed": 0, "fuzz_examples": 0, "fuzz_accepted": 0, "fuzz_refused": 0}


@pytest.fixture(scope="module", autouse=True)
def _print_tally(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    line = (f"hostile cases: {TALLY['run']} run, {TALLY['passed']} passed "
            f"(fuzz: {TALLY['fuzz_examples']} examples, {TALLY['fuzz_accepted']} accepted, "
            f"{TALLY['fuzz_refused']} refused with a 4xx)")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        with capture.global_and_fixture_disabled():
            print(f"\n{line}", flush=True)
    else:
        print(line, flush=True)


@pytest.fixture(autouse=True)
def _count_run(request: pytest.FixtureRequest) -> None:
    # The fuzz test is reported by its example count, not as a case.
    if request.node.originalname != "test_fuzzed_uploads_never_5xx":
        TALLY["run"] += 1


def case_passed() -> None:
    TALLY["passed"] += 1


# --------------------------------------------------------------------------- network safety

# Names the fake resolver knows. Anything else fails to resolve: no DNS query leaves the process.
NAMES: dict[str, list[str]] = {
    "metadata.hostile.test": ["169.254.169.254"],
    "intranet.hostile.test": ["10.20.30.40"],
    "router.hostile.test": ["192.168.1.1"],
    "loopback.hostile.test": ["127.0.0.1"],
    "loopback6.hostile.test": ["::1"],
    "mixed.hostile.test": ["93.184.216.34", "10.0.0.1"],  # one public, one private answer
    # glibc's resolver reads a bare number as an IPv4 address (inet_aton): 2130706433 is 127.0.0.1
    "2130706433": ["127.0.0.1"],
    "0x7f000001": ["127.0.0.1"],
}


@pytest.fixture(autouse=True)
def guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[ConnectionGuard]:
    """No test in this module can open a connection beyond loopback or ask real DNS."""
    connection_guard = ConnectionGuard(real=socket.create_connection)
    monkeypatch.setattr(socket, "create_connection", connection_guard)
    monkeypatch.setattr(socket, "getaddrinfo", FakeResolver(NAMES))
    yield connection_guard
    assert connection_guard.refused == [], f"the app tried to connect to {connection_guard.refused}"


# --------------------------------------------------------------------------- apps


@dataclass
class Site:
    """One app with its analyzer, a test client and its callbacks as functions."""

    app: Dash
    analyzer: Analyzer
    client: FlaskClient
    good: bytes  # an image this app accepts

    def callback(self, output: str) -> Callable[..., Any]:
        return harness.find_callback(self.app, output)


def build_site(analyzer: Analyzer, make_app: Callable[..., Dash], good: bytes) -> Site:
    app = make_app(analyzer)
    return Site(app=app, analyzer=analyzer, client=app.server.test_client(), good=good)


@pytest.fixture(scope="module")
def site(make_analyzer: Callable[..., Analyzer], make_app: Callable[..., Dash], example_bytes: bytes) -> Site:
    return build_site(make_analyzer(), make_app, example_bytes)


@pytest.fixture(scope="module")
def small_site(make_analyzer: Callable[..., Analyzer], make_app: Callable[..., Dash]) -> Site:
    """Upload limit of 20,000 bytes, so Flask's request cap is ~1 MB."""
    good = h.encode(h.noise(48, 40, seed=1), "PNG")
    assert len(good) < SMALL_LIMIT
    return build_site(make_analyzer(max_upload_bytes=SMALL_LIMIT), make_app, good)


@pytest.fixture(scope="module")
def slow_site(make_analyzer: Callable[..., Analyzer], make_app: Callable[..., Dash], example_bytes: bytes) -> Site:
    """Short URL timeouts, for servers that never answer or never stop."""
    analyzer = make_analyzer(url_connect_timeout_s=1.0, url_read_timeout_s=0.5, url_total_timeout_s=2.0)
    return build_site(analyzer, make_app, example_bytes)


def allow_loopback_fetches(monkeypatch: pytest.MonkeyPatch, target: Site) -> None:
    """Let this site's analyzer fetch from 127.0.0.1 test servers (the only change to the app)."""
    monkeypatch.setattr(target.analyzer.library, "ingest_url",
                        functools.partial(ImageLibrary.ingest_url, target.analyzer.library, policy=LOOPBACK))


# --------------------------------------------------------------------------- the ways in


@dataclass
class Outcome:
    status: int | None  # HTTP status (None for a callback called as a function)
    message: str  # the error, or the callback's success text
    sha: str | None = None
    width: int | None = None
    height: int | None = None

    @property
    def accepted(self) -> bool:
        return self.sha is not None


def _api_outcome(response: Any) -> Outcome:
    assert response.status_code < 500, f"{response.status_code}: {response.get_data(as_text=True)[:500]}"
    assert response.is_json, f"not JSON: {response.content_type} {response.get_data(as_text=True)[:300]}"
    body = response.get_json()
    if response.status_code == 201:
        return Outcome(201, "", body["sha256"], body["width"], body["height"])
    assert set(body) == {"error"}, body
    return Outcome(response.status_code, harness.assert_clear_message(body["error"]))


def _callback_outcome(choice: Any, message: Any) -> Outcome:
    text = harness.alert_text(message)
    if choice is no_update:
        return Outcome(None, harness.assert_clear_message(text))
    sha = choice["sha"]
    return Outcome(None, text, sha)


def _dash_payload(upload: dict[str, Any] | None = None, url: str | None = None) -> dict[str, Any]:
    """The request the browser sends for the image-intake callback."""
    changed = "upload-accepted.data" if upload is not None else "ctl-url-go.n_clicks"
    return {
        "output": "..image-choice.data...image-message.children..",
        "outputs": [{"id": "image-choice", "property": "data"}, {"id": "image-message", "property": "children"}],
        "inputs": [
            {"id": "upload-accepted", "property": "data", "value": upload},
            {"id": "ctl-url-go", "property": "n_clicks", "value": 1 if url is not None else 0},
            {"id": "ctl-url", "property": "n_submit", "value": 0},
            {"id": "ctl-example", "property": "value", "value": None},
        ],
        "changedPropIds": [changed],
        "state": [{"id": "ctl-url", "property": "value", "value": url}],
    }


def _dash_http_outcome(response: Any) -> Outcome:
    assert response.status_code == 200, f"{response.status_code}: {response.get_data(as_text=True)[:500]}"
    body = response.get_json()["response"]
    message = body["image-message"]["children"]
    text = _serialized_text(message)
    if "image-choice" not in body:
        return Outcome(200, harness.assert_clear_message(text))
    return Outcome(200, text, body["image-choice"]["data"]["sha"])


def _serialized_text(node: Any) -> str:
    """Text of a component tree as Dash serializes it to JSON."""
    if node is None:
        return ""
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list):
        return " ".join(_serialized_text(child) for child in node)
    return _serialized_text(node.get("props", {}).get("children"))


BYTE_CHANNELS = ("api-multipart", "api-raw", "callback", "dash-http")
URL_CHANNELS = ("api", "callback", "dash-http")


def send_bytes(target: Site, channel: str, data: bytes, filename: str = "upload.png") -> Outcome:
    if channel == "api-multipart":
        return _api_outcome(target.client.post("/api/images", data={"file": (io.BytesIO(data), filename)},
                                               content_type="multipart/form-data"))
    if channel == "api-raw":
        return _api_outcome(target.client.post("/api/images", data=data, content_type="application/octet-stream"))
    upload = {"contents": harness.data_url(data), "filename": filename}
    if channel == "callback":
        choose = target.callback("image-choice.data")
        answer = harness.run_callback(choose, "upload-accepted.data", upload, 0, 0, None, None)
        return _callback_outcome(*_chosen(answer))
    if channel == "dash-http":
        return _dash_http_outcome(target.client.post("/_dash-update-component", json=_dash_payload(upload=upload)))
    raise ValueError(channel)


def send_url(target: Site, channel: str, url: str) -> Outcome:
    if channel == "api":
        return _api_outcome(target.client.post("/api/images", json={"url": url}))
    if channel == "callback":
        choose = target.callback("image-choice.data")
        return _callback_outcome(*_chosen(harness.run_callback(choose, "ctl-url-go.n_clicks", None, 1, 0, None, url)))
    if channel == "dash-http":
        return _dash_http_outcome(target.client.post("/_dash-update-component", json=_dash_payload(url=url)))
    raise ValueError(channel)


def _chosen(answer: dict[str, Any]) -> tuple[Any, Any]:
    """The upload callback's named outputs: (the image chosen, its message)."""
    return answer["choice"], answer["message"]


def assert_refused(outcome: Outcome, status: int, *words: str) -> None:
    assert not outcome.accepted, f"accepted {outcome}"
    if outcome.status is not None and outcome.status != 200:  # the API; callbacks answer 200 with a message
        assert outcome.status == status, f"expected {status}, got {outcome.status}: {outcome.message}"
    text = outcome.message.lower()
    for word in words:
        assert word.lower() in text, f"{word!r} not in {outcome.message!r}"


def assert_still_healthy(target: Site) -> None:
    """The next good request after a hostile one: upload, analysis, and the upload callback."""
    up = target.client.post("/api/images", data={"file": (io.BytesIO(target.good), "good.png")},
                            content_type="multipart/form-data")
    assert up.status_code == 201, up.get_data(as_text=True)[:300]
    sha = up.get_json()["sha256"]
    analysis = target.client.get(f"/api/analysis?image={sha}&{GOOD_QUERY}")
    assert analysis.status_code == 200, analysis.get_data(as_text=True)[:300]
    assert len(analysis.get_json()["ranking"]["filters"]) == 2
    choose = target.callback("image-choice.data")
    choice, _ = _chosen(harness.run_callback(choose, "upload-accepted.data", {
        "contents": harness.data_url(target.good), "filename": "good.png"}, 0, 0, None, None))
    assert choice == {"sha": sha}


# --------------------------------------------------------------------------- uploads that must be refused


def _random_bytes() -> bytes:
    return np.random.default_rng(42).integers(0, 256, 4096, dtype=np.uint8).tobytes()


REFUSED_UPLOADS: list[tuple[str, Callable[[], bytes], int, tuple[str, ...]]] = [
    ("empty", lambda: b"", 400, ("empty",)),
    ("plain-text", lambda: h.NOT_AN_IMAGE, 415, ("not an image",)),
    ("random-bytes", _random_bytes, 415, ("supported",)),
    ("truncated-jpeg", lambda: h.truncated(h.example("rocket.jpg")), 400, ("JPEG", "damaged")),
    ("truncated-png", lambda: h.truncated(h.example("chelsea.png")), 400, ("PNG", "damaged")),
    ("png-header-only", lambda: h.example("chelsea.png")[:40], 400, ("PNG",)),
    ("png-ihdr-100000x100000", h.declared_size_png, 413, ("limit",)),
    ("pixel-bomb-7000x7000", h.pixel_bomb_png, 413, ("7,000 x 7,000", "limit")),
    ("svg-as-image", lambda: h.SVG, 415, ("SVG",)),
    ("html-as-image", lambda: h.HTML, 415, ("HTML",)),
    ("pdf-as-image", lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n", 415, ("PDF",)),
    ("tiff", lambda: h.encode(h.noise(8, 8), "TIFF"), 415, ("TIFF",)),
    ("over-10MB-limit", lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * (10 * 1024 * 1024), 413, ("limit",)),
]


@pytest.mark.parametrize("channel", BYTE_CHANNELS)
@pytest.mark.parametrize(("make", "status", "words"), [pytest.param(*case[1:], id=case[0]) for case in REFUSED_UPLOADS])
def test_hostile_upload_is_refused(site: Site, channel: str, make: Callable[[], bytes], status: int,
                                   words: tuple[str, ...]) -> None:
    before = sorted(p.name for p in site.analyzer.settings.images_dir.rglob("*.png"))
    outcome = send_bytes(site, channel, make())
    assert_refused(outcome, status, *words)
    # Nothing of a refused upload is stored.
    assert sorted(p.name for p in site.analyzer.settings.images_dir.rglob("*.png")) == before
    assert_still_healthy(site)
    case_passed()


# --------------------------------------------------------------------------- uploads that must be accepted


def _expected_sha(data: bytes, transform: Callable[[Image.Image], Image.Image] | None = None) -> str:
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
    return image_sha256(transform(rgb) if transform else rgb)


GIF = h.animated_gif()
EXIF_JPEG = h.exif_rotated_jpeg(40, 20, orientation=6)

ACCEPTED_UPLOADS: list[tuple[str, Callable[[], bytes], tuple[int, int], Callable[[], str] | None]] = [
    # Only the first (red) frame is analysed.
    ("animated-gif", lambda: GIF, (16, 12),
     lambda: image_sha256(Image.new("RGB", (16, 12), h.FIRST_FRAME))),
    ("png-16bit-grey", h.gray16_png, (24, 16), None),
    ("png-16bit-rgb", h.rgb16_png, (24, 16), None),
    ("png-palette", h.palette_png, (32, 24), lambda: _expected_sha(h.palette_png())),
    ("png-palette-transparent", lambda: h.palette_png(transparent=True), (32, 24), None),
    ("jpeg-cmyk", h.cmyk_jpeg, (40, 30), None),
    # Stored 40 x 20 with orientation 6 (rotate 90° clockwise): shown 20 x 40.
    ("jpeg-exif-rotated", lambda: EXIF_JPEG, (20, 40),
     lambda: _expected_sha(EXIF_JPEG, lambda im: im.transpose(Image.Transpose.ROTATE_270))),
    ("1x1", lambda: h.solid_png(1, 1), (1, 1), None),
    ("1x4000", lambda: h.solid_png(1, 4000), (1, 4000), None),
    ("4000x1", lambda: h.solid_png(4000, 1), (4000, 1), None),
]


@pytest.mark.parametrize("channel", BYTE_CHANNELS)
@pytest.mark.parametrize(("make", "size", "sha"), [pytest.param(*case[1:], id=case[0]) for case in ACCEPTED_UPLOADS])
def test_odd_but_valid_upload_is_accepted_and_analysable(site: Site, channel: str, make: Callable[[], bytes],
                                                         size: tuple[int, int],
                                                         sha: Callable[[], str] | None) -> None:
    outcome = send_bytes(site, channel, make(), filename="odd.img")
    assert outcome.accepted, f"refused: {outcome}"
    if outcome.status == 201:
        assert (outcome.width, outcome.height) == size
    else:
        assert f"{size[0]}×{size[1]}" in outcome.message, outcome.message
    assert outcome.sha is not None
    assert site.analyzer.library.image(outcome.sha).size == size
    if sha is not None:
        assert outcome.sha == sha()
    # Extreme sizes and aspect ratios must not break the analysis, the regions or the patches.
    analysis = site.client.get(f"/api/analysis?image={outcome.sha}&model=alexnet&layer=features.0&n=3")
    assert analysis.status_code == 200, analysis.get_data(as_text=True)[:500]
    body = analysis.get_json()
    assert (body["image"]["width"], body["image"]["height"]) == size
    for ranked in body["ranking"]["filters"]:
        for box in ranked["regions"]:
            assert 0 <= box["x0"] <= box["x1"] <= size[0] and 0 <= box["y0"] <= box["y1"] <= size[1]
    regions = site.client.get(f"/api/export/regions.json?image={outcome.sha}&model=alexnet&layer=features.3")
    assert regions.status_code == 200, regions.get_data(as_text=True)[:500]
    assert regions.get_json()["patches"] is not None
    assert_still_healthy(site)
    case_passed()


@pytest.mark.parametrize("size", [(1, 1), (1, 4000), (4000, 1)], ids=["1x1", "1x4000", "4000x1"])
def test_extreme_sizes_through_every_resnet_stage(site: Site, size: tuple[int, int]) -> None:
    """ResNet18 too: its deepest maps are 7x7, so one map cell covers the whole thin image."""
    outcome = send_bytes(site, "api-raw", h.solid_png(*size))
    assert outcome.status == 201 and (outcome.width, outcome.height) == size
    for layer in ("conv1", "layer4.1.conv2"):
        query = f"image={outcome.sha}&model=resnet18&layer={layer}&n=2"
        analysis = site.client.get(f"/api/analysis?{query}")
        assert analysis.status_code == 200, analysis.get_data(as_text=True)[:500]
        regions = site.client.get(f"/api/export/regions.json?{query}")
        assert regions.status_code == 200, regions.get_data(as_text=True)[:500]
        for box in regions.get_json()["regions"]:
            assert 0 <= box["x0"] <= box["x1"] <= size[0] and 0 <= box["y0"] <= box["y1"] <= size[1]
    assert_still_healthy(site)
    case_passed()


# --------------------------------------------------------------------------- size limits of a small app


@pytest.mark.parametrize("channel", BYTE_CHANNELS)
def test_file_over_the_configured_limit_is_413(small_site: Site, channel: str) -> None:
    data = h.encode(h.noise(120, 100, seed=4), "PNG")  # a valid image, over 20,000 bytes
    assert SMALL_LIMIT < len(data) < 200_000
    outcome = send_bytes(small_site, channel, data)
    assert_refused(outcome, 413, "limit")
    assert not harness.states_zero_limit(outcome.message), outcome.message
    assert_still_healthy(small_site)
    case_passed()


MCL_BODY = 1_200_000  # over the small app's request cap (20,000 * 4/3 + 1 MiB), whatever the route


@pytest.mark.parametrize("route", ["api-multipart", "api-raw", "dash-http"])
def test_request_over_flasks_content_length_cap_is_413(small_site: Site, route: str) -> None:
    cap = small_site.app.server.config["MAX_CONTENT_LENGTH"]
    assert cap < MCL_BODY
    blob = b"\x89PNG\r\n\x1a\n" + b"\x00" * MCL_BODY
    client = small_site.client
    if route == "api-multipart":
        response = client.post("/api/images", data={"file": (io.BytesIO(blob), "big.png")},
                               content_type="multipart/form-data")
    elif route == "api-raw":
        response = client.post("/api/images", data=blob, content_type="image/png")
    else:
        payload = _dash_payload(upload={"contents": harness.data_url(blob), "filename": "big.png"})
        response = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
    assert response.status_code == 413, response.get_data(as_text=True)[:300]
    message = harness.assert_clear_message(response.get_json()["error"])
    assert "limit" in message
    assert not harness.states_zero_limit(message), f"the message states a zero limit: {message!r}"
    assert_still_healthy(small_site)
    case_passed()


# --------------------------------------------------------------------------- odd API request shapes


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        pytest.param({"json": {"url": 5}}, 400, id="url-not-a-string"),
        pytest.param({"json": ["http://example.com/x.png"]}, 400, id="json-array"),
        pytest.param({"data": b"{not json", "content_type": "application/json"}, 400, id="malformed-json"),
        pytest.param({"data": {"other": "field"}, "content_type": "multipart/form-data"}, 400, id="multipart-no-file"),
        pytest.param({"data": b"<x/>", "content_type": "text/xml"}, 400, id="xml-body"),
    ],
)
def test_odd_request_shapes_get_a_4xx(site: Site, kwargs: dict[str, Any], status: int) -> None:
    outcome = _api_outcome(site.client.post("/api/images", **kwargs))
    assert_refused(outcome, status)
    assert_still_healthy(site)
    case_passed()


@pytest.mark.parametrize(
    ("upload", "words"),
    [
        pytest.param({"contents": "not a data url", "filename": "x.png"}, ("empty",), id="no-data-url"),
        pytest.param({"contents": "data:image/png;base64,abc", "filename": "x.png"}, ("could not be read",),
                     id="bad-base64"),
        pytest.param({"contents": "data:image/png;base64,", "filename": "x.png"}, ("empty",), id="empty-data-url"),
        pytest.param({"contents": None, "filename": None}, ("empty",), id="null-contents"),
    ],
)
def test_callback_rejects_malformed_uploads(site: Site, upload: dict[str, Any], words: tuple[str, ...]) -> None:
    choose = site.callback("image-choice.data")
    answer = harness.run_callback(choose, "upload-accepted.data", upload, 0, 0, None, None)
    outcome = _callback_outcome(*_chosen(answer))
    assert_refused(outcome, 400, *words)
    assert_still_healthy(site)
    case_passed()


# --------------------------------------------------------------------------- URLs


@pytest.fixture(scope="module")
def trap() -> Iterator[LoopbackHTTPServer]:
    """A loopback server with a real image: it must never be contacted by the default policy."""
    server = LoopbackHTTPServer()
    server.routes["/img.png"] = net.serve_bytes(h.solid_png(8, 8))
    with net.running(server):
        yield server


@pytest.mark.parametrize("channel", URL_CHANNELS)
@pytest.mark.parametrize(
    "url",
    [
        pytest.param("file:///etc/passwd", id="file"),
        pytest.param("ftp://ftp.hostile.test/pub/cat.png", id="ftp"),
        pytest.param("data:image/png;base64,iVBORw0KGgo=", id="data"),
        pytest.param("gopher://127.0.0.1:70/_INFO", id="gopher"),
        pytest.param("javascript:alert(1)", id="javascript"),
        pytest.param("http://user:secret@127.0.0.1/x.png", id="credentials"),
        pytest.param("http:///x.png", id="no-host"),
        pytest.param("http://[::1/x.png", id="malformed-ipv6"),
        pytest.param("http://127.0.0.1:0/x.png", id="port-0"),
        pytest.param("http://" + "a" * 9000 + ".test/", id="9000-characters"),
    ],
)
def test_url_with_forbidden_scheme_or_shape_is_400(site: Site, guard: ConnectionGuard, channel: str,
                                                   url: str) -> None:
    outcome = send_url(site, channel, url)
    assert_refused(outcome, 400)
    assert guard.attempts == []
    assert_still_healthy(site)
    case_passed()


FORBIDDEN_ADDRESSES = [
    pytest.param("http://127.0.0.1:{port}/img.png", "loopback", id="loopback-127.0.0.1"),
    pytest.param("http://[::1]:{port}/img.png", "loopback", id="ipv6-loopback"),
    pytest.param("http://[::ffff:127.0.0.1]:{port}/img.png", "loopback", id="ipv4-mapped-loopback"),
    pytest.param("http://[2002:7f00:1::]:{port}/img.png", "loopback", id="6to4-loopback"),
    pytest.param("http://loopback.hostile.test:{port}/img.png", "loopback", id="name-to-loopback"),
    pytest.param("http://loopback6.hostile.test:{port}/img.png", "loopback", id="name-to-ipv6-loopback"),
    pytest.param("http://2130706433:{port}/img.png", "loopback", id="decimal-loopback"),
    pytest.param("http://0x7f000001:{port}/img.png", "loopback", id="hex-loopback"),
    pytest.param("http://0.0.0.0:{port}/img.png", "unspecified", id="unspecified"),
    pytest.param("http://169.254.169.254/latest/meta-data/", "link-local", id="metadata-169.254.169.254"),
    pytest.param("http://[::ffff:169.254.169.254]/latest/", "link-local", id="ipv4-mapped-metadata"),
    pytest.param("http://[fe80::1]/x.png", "link-local", id="ipv6-link-local"),
    pytest.param("http://metadata.hostile.test/latest/", "link-local", id="name-to-metadata"),
    pytest.param("http://10.0.0.1/x.png", "private", id="private-10"),
    pytest.param("http://172.16.5.4/x.png", "private", id="private-172.16"),
    pytest.param("http://192.168.1.1/x.png", "private", id="private-192.168"),
    pytest.param("http://intranet.hostile.test/x.png", "private", id="name-to-private"),
    pytest.param("http://mixed.hostile.test/x.png", "private", id="name-to-public-and-private"),
    pytest.param("http://100.64.0.1/x.png", "shared", id="carrier-grade-nat"),
    pytest.param("http://[fc00::1]/x.png", "private", id="ipv6-unique-local"),
]


@pytest.mark.parametrize("channel", URL_CHANNELS)
@pytest.mark.parametrize(("url", "word"), FORBIDDEN_ADDRESSES)
def test_url_to_a_forbidden_address_is_400_without_any_connection(site: Site, trap: LoopbackHTTPServer,
                                                                  guard: ConnectionGuard, channel: str, url: str,
                                                                  word: str) -> None:
    outcome = send_url(site, channel, url.format(port=trap.port))
    assert_refused(outcome, 400, word)
    assert guard.attempts == [], f"connection attempted: {guard.attempts}"
    assert trap.connections_seen() == 0 and trap.requests_seen() == []
    assert_still_healthy(site)
    case_passed()


@pytest.mark.parametrize("channel", URL_CHANNELS)
@pytest.mark.parametrize(
    ("final", "words"),
    [
        pytest.param("http://169.254.169.254/latest/meta-data/iam/", ("link-local",), id="to-metadata"),
        pytest.param("http://[::ffff:169.254.169.254]/latest/", ("link-local",), id="to-mapped-metadata"),
        pytest.param("http://metadata.hostile.test/latest/", ("link-local",), id="to-name-of-metadata"),
        pytest.param("http://10.0.0.1/admin", ("private",), id="to-private"),
        pytest.param("file:///etc/passwd", ("redirect", "https://"), id="to-file"),
        pytest.param("gopher://127.0.0.1:6379/_FLUSHALL", ("redirect", "https://"), id="to-gopher"),
    ],
)
def test_redirect_chain_ending_at_a_forbidden_address_is_refused(site: Site, guard: ConnectionGuard,
                                                                 monkeypatch: pytest.MonkeyPatch, channel: str,
                                                                 final: str, words: tuple[str, ...]) -> None:
    allow_loopback_fetches(monkeypatch, site)  # so the first hops (on 127.0.0.1) are followed
    with net.running(LoopbackHTTPServer()) as hops:
        hops.routes["/hop1"] = net.redirect_to("/hop2")
        hops.routes["/hop2"] = net.redirect_to(hops.url("/hop3"), status=307)
        hops.routes["/hop3"] = net.redirect_to(final, status=301)
        outcome = send_url(site, channel, hops.url("/hop1"))
        assert_refused(outcome, 400, *words)
        assert hops.requests_seen() == ["/hop1", "/hop2", "/hop3"]
        # Every connection went to the hop server; the final address was never contacted.
        assert guard.attempts and all(port == hops.port for _, port in guard.attempts), guard.attempts
    assert_still_healthy(site)
    case_passed()


@pytest.mark.parametrize("channel", URL_CHANNELS)
@pytest.mark.parametrize(
    ("path", "status", "word"),
    [
        pytest.param("/page.html", 415, "HTML", id="serves-html"),
        pytest.param("/drawing.svg", 415, "SVG", id="serves-svg"),
        pytest.param("/bomb.png", 413, "limit", id="serves-pixel-bomb"),
        pytest.param("/missing.png", 422, "404", id="answers-404"),
        pytest.param("/loop", 400, "redirected more than", id="redirect-loop"),
    ],
)
def test_url_serving_something_hostile_is_refused(site: Site, monkeypatch: pytest.MonkeyPatch, channel: str,
                                                  path: str, status: int, word: str) -> None:
    allow_loopback_fetches(monkeypatch, site)
    with net.running(LoopbackHTTPServer()) as server:
        server.routes["/page.html"] = net.serve_bytes(h.HTML, "image/png")
        server.routes["/drawing.svg"] = net.serve_bytes(h.SVG, "image/svg+xml")
        server.routes["/bomb.png"] = net.serve_bytes(h.pixel_bomb_png())
        server.routes["/loop"] = net.redirect_to("/loop")
        outcome = send_url(site, channel, server.url(path))
    assert_refused(outcome, status, word)
    assert_still_healthy(site)
    case_passed()


@pytest.mark.parametrize("channel", URL_CHANNELS)
def test_server_that_never_answers_is_given_up(slow_site: Site, monkeypatch: pytest.MonkeyPatch,
                                               channel: str) -> None:
    allow_loopback_fetches(monkeypatch, slow_site)
    with net.running(SilentServer()) as silent:
        outcome = send_url(slow_site, channel, silent.url("/never.png"))
        wait_for(lambda: silent.accepted >= 1, 10, "the silent server to see the connection")
    assert_refused(outcome, 422, "did not answer")
    assert_still_healthy(slow_site)
    case_passed()


@pytest.mark.parametrize("channel", URL_CHANNELS)
def test_server_that_streams_forever_is_cut_off(slow_site: Site, monkeypatch: pytest.MonkeyPatch,
                                                channel: str) -> None:
    allow_loopback_fetches(monkeypatch, slow_site)
    with net.running(LoopbackHTTPServer()) as server:
        server.routes["/endless.png"] = net.stream_forever(server)
        outcome = send_url(slow_site, channel, server.url("/endless.png"))
        assert server.requests_seen() == ["/endless.png"]
    assert_refused(outcome, 422, "longer than 2 seconds")
    assert_still_healthy(slow_site)
    case_passed()


# --------------------------------------------------------------------------- query-state abuse

LONG = "x" * 100_000
UNKNOWN_SHA = "0123456789abcdef" * 4

API_QUERIES = [
    pytest.param("image=IMG&model=vgg99&layer=conv1", 404, "model", id="unknown-model"),
    pytest.param("image=IMG&model=resnet18&layer=nope.conv", 404, "nope.conv", id="unknown-layer"),
    pytest.param("image=IMG&model=alexnet&layer=conv1", 404, "conv1", id="layer-of-another-model"),
    pytest.param("image=IMG&model=resnet18&layer=conv1&n=0", 400, "n must", id="n-0"),
    pytest.param("image=IMG&model=resnet18&layer=conv1&n=-1", 400, "n must", id="n-negative"),
    pytest.param("image=IMG&model=resnet18&layer=conv1&n=1000000000", 400, "n must", id="n-1e9"),
    pytest.param("image=IMG&model=resnet18&layer=conv1&n=NaN", 400, "n must", id="n-nan"),
    pytest.param("image=IMG&model=resnet18&layer=conv1&n=inf", 400, "n must", id="n-inf"),
    pytest.param("image=IMG&model=resnet18&layer=conv1&n=1e999", 400, "n must", id="n-overflow"),
    pytest.param("image=IMG&model=resnet18&layer=conv1&n=0x10", 400, "n must", id="n-hex"),
    pytest.param("image=IMG&model=resnet18&layer=conv1&weight=1.5", 400, "weight", id="weight-over-1"),
    pytest.param("image=IMG&model=resnet18&layer=conv1&weight=-0.01", 400, "weight", id="weight-negative"),
    pytest.param("image=IMG&model=resnet18&layer=conv1&weight=nan", 400, "weight", id="weight-nan"),
    pytest.param("image=IMG&model=resnet18&layer=conv1&min_sparsity=2", 400, "min_sparsity", id="sparsity-over-1"),
    pytest.param("image=IMG&model=resnet18&layer=conv1&min_sparsity=-inf", 400, "min_sparsity",
                 id="sparsity-minus-inf"),
    pytest.param("image=IMG&model=resnet18&layer=conv1&criterion=" + LONG, 400, "criterion", id="long-criterion"),
    pytest.param("image=IMG&model=resnet18&layer=" + LONG, 404, "layer", id="long-layer"),
    pytest.param("image=IMG&model=" + LONG + "&layer=conv1", 404, "model", id="long-model"),
    pytest.param("image=" + LONG + "&model=resnet18&layer=conv1", 400, "SHA-256", id="long-image"),
    pytest.param("image=IMG&model=resnet18&layer=conv1&n=" + "9" * 100_000, 400, "n must", id="long-n"),
    pytest.param("image=IMG&model=resnet18&layer=conv1&weight=0." + "5" * 100_000 + "x", 400, "weight",
                 id="long-weight"),
    pytest.param("image=IMG&model=resnet18&layer=nope&layer=conv1", 404, "nope", id="repeated-layer-first-wins"),
    pytest.param("image=IMG&model=resnet18&layer=conv1&n=0&n=5", 400, "n must", id="repeated-n-first-wins"),
    pytest.param("image=IMG&layer=conv1&" + "&".join(["model=vgg99"] * 5000), 404, "model",
                 id="5000-repeated-params"),
    pytest.param(f"image={UNKNOWN_SHA}&model=resnet18&layer=conv1", 404, "upload", id="hash-not-stored"),
    pytest.param("image=" + "G" * 64 + "&model=resnet18&layer=conv1", 400, "SHA-256", id="hash-not-hex"),
    pytest.param("image=IMG&model=resnet18&layer=conv1&image=" + UNKNOWN_SHA, 200, "", id="repeated-image-ok"),
]


@pytest.mark.parametrize("endpoint", ["/api/analysis", "/api/export/ranking.csv"])
@pytest.mark.parametrize(("query", "status", "word"), API_QUERIES)
def test_query_abuse_through_the_api(site: Site, endpoint: str, query: str, status: int, word: str) -> None:
    sha = site.analyzer.library.default_image()
    response = site.client.get(f"{endpoint}?{query.replace('IMG', sha)}")
    if status == 200:
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    else:
        outcome = _api_outcome(response)
        assert outcome.status == status, f"expected {status}, got {outcome.status}: {outcome.message}"
        assert word.lower() in outcome.message.lower(), outcome.message
    assert_still_healthy(site)
    case_passed()


@pytest.mark.parametrize(
    ("query", "status"),
    [
        pytest.param("filter=-1", 400, id="filter-negative"),
        pytest.param("filter=1000000000", (400, 404), id="filter-1e9"),
        pytest.param("filter=" + "9" * 100_000, (400, 404), id="filter-100k-digits"),
        pytest.param("filter=NaN", 400, id="filter-nan"),
        pytest.param("filter=%C2%B2", 400, id="filter-superscript-two"),
    ],
)
def test_region_export_with_bad_filter(site: Site, query: str, status: int | tuple[int, ...]) -> None:
    sha = site.analyzer.library.default_image()
    response = site.client.get(f"/api/export/regions.json?image={sha}&model=alexnet&layer=features.0&{query}")
    outcome = _api_outcome(response)
    expected = status if isinstance(status, tuple) else (status,)
    assert outcome.status in expected, f"expected {status}, got {outcome.status}: {outcome.message}"
    assert "filter" in outcome.message.lower()
    assert_still_healthy(site)
    case_passed()


CALLBACK_QUERIES = [
    pytest.param("?model=vgg99", {"model": "resnet18"}, "vgg99", id="unknown-model"),
    pytest.param("?layer=nope.conv", {"layer": "layer2.0.conv1"}, "nope.conv", id="unknown-layer"),
    pytest.param("?model=alexnet&layer=conv1", {"model": "alexnet", "layer": "features.3"}, "conv1",
                 id="layer-of-another-model"),
    pytest.param("?n=0", {"n": 1}, "n=", id="n-0"),
    pytest.param("?n=-1", {"n": 1}, "n=", id="n-negative"),
    pytest.param("?n=1000000000", {"n": MAX_N}, "n=", id="n-1e9"),
    pytest.param("?n=NaN", {"n": 6}, "NaN", id="n-nan"),
    pytest.param("?n=2.5", {"n": 6}, "n=", id="n-fraction"),
    pytest.param("?weight=1.5", {"weight": 1.0}, "weight", id="weight-over-1"),
    pytest.param("?weight=-3", {"weight": 0.0}, "weight", id="weight-negative"),
    pytest.param("?min_sparsity=2", {"min_sparsity": MAX_MIN_SPARSITY}, "min_sparsity", id="sparsity-over-max"),
    pytest.param("?weight=inf", {"weight": 0.5}, "weight", id="weight-inf"),
    pytest.param("?layer=" + LONG, {"layer": "layer2.0.conv1"}, "no conv layer", id="long-layer"),
    pytest.param("?model=" + LONG, {"model": "resnet18"}, "unknown model", id="long-model"),
    pytest.param("?image=" + LONG, {}, "image id", id="long-image"),
    pytest.param("?criterion=" + LONG, {"criterion": "balanced"}, "criterion", id="long-criterion"),
    pytest.param("?layer=nope&layer=conv1", {"layer": "layer2.0.conv1"}, "nope", id="repeated-first-wins"),
    pytest.param("?" + "&".join(["n=5"] * 5000), {"n": 6}, "could not be read", id="5000-repeated-params"),
    pytest.param(f"?image={UNKNOWN_SHA}", {}, "not stored", id="hash-not-stored"),
    pytest.param("?image=" + "G" * 64, {}, "image id", id="hash-not-hex"),
    pytest.param("?filter=500&layer=conv1", {"filter": None}, "Filter 500", id="filter-out-of-range"),
    pytest.param("?filter=999999", {"filter": None}, "filter=", id="filter-huge"),
    pytest.param("?filter=%C2%B2", {"filter": None}, "filter=", id="filter-superscript-two"),
    pytest.param("?cls=%C2%B9", {"cls": None}, "cls=", id="cls-superscript-one"),
    pytest.param("?%ff%fe=%00&n=%00", {"n": 6}, "n=", id="binary-garbage"),
]


@pytest.mark.parametrize(("search", "expected", "word"), CALLBACK_QUERIES)
def test_query_abuse_through_the_state_callback(site: Site, search: str, expected: dict[str, Any],
                                                word: str) -> None:
    out = harness.sync_state(site.app, search)
    target, view, messages = out["url-target.data"], out["view-state.data"], out["state-messages.children"]
    text = harness.alert_text(messages)
    assert word.lower() in text.lower(), text[:500]
    for alert in messages:
        harness.assert_clear_message(harness.alert_text(alert), max_length=600)
    # Sensible defaults: a view that the pages can render.
    catalog = site.analyzer.models.state_catalog()
    assert view["model"] in catalog and view["layer"] in catalog[view["model"]]
    assert 1 <= view["n"] <= MAX_N and 0.0 <= view["weight"] <= 1.0
    assert 0.0 <= view["min_sparsity"] <= MAX_MIN_SPARSITY
    assert site.analyzer.library.store.has(view["image"])
    for key, value in expected.items():
        assert view[key] == value, (key, view[key])
    # The rewritten address is short and valid: parsing it again gives no message.
    assert len(target) < 1000
    again = harness.sync_state(site.app, target)
    assert again["view-state.data"] == view and harness.alert_text(again["state-messages.children"]) == ""
    # The view it produced can actually be analysed through the API.
    query = f"image={view['image']}&model={view['model']}&layer={view['layer']}&n={view['n']}"
    assert site.client.get(f"/api/analysis?{query}").status_code == 200
    assert_still_healthy(site)
    case_passed()


# --------------------------------------------------------------------------- fuzzing


def _fuzz_seeds() -> list[bytes]:
    examples = [h.example("rocket.jpg"), h.example("chelsea.png")]
    with Image.open(io.BytesIO(examples[1])) as chelsea:
        small = chelsea.convert("RGB").resize((48, 32))
    return [
        *examples,
        h.encode(small, "PNG"),
        h.encode(small, "JPEG", quality=80),
        h.encode(small, "JPEG", quality=80, progressive=True),
        h.encode(small.convert("P"), "GIF"),
        h.encode(small, "BMP"),
        h.encode(small, "WEBP", quality=80),
        h.encode(small.convert("L"), "PNG"),
        h.encode(small.convert("RGBA"), "PNG"),
    ]


FUZZ_SEEDS = _fuzz_seeds()


@st.composite
def mutated_images(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(FUZZ_SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "header", "overwrite", "insert", "delete", "truncate"]))
        # Most structure (and most interesting damage) sits in the first few hundred bytes.
        limit = len(data) if draw(st.booleans()) else min(len(data), 512)
        position = draw(st.integers(0, max(0, limit - 1)))
        if kind == "flip" and data:
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif kind == "header" and data:
            data[position] = draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80]))
        elif kind == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=16))
            data[position:position + len(chunk)] = chunk
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del data[position:position + draw(st.integers(1, 64))]
        elif kind == "truncate":
            del data[position:]
    return bytes(data)


@hypothesis_settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the working tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(data=mutated_images(), raw=st.booleans())
def test_fuzzed_uploads_never_5xx(site: Site, data: bytes, raw: bool) -> None:
    TALLY["fuzz_examples"] += 1
    if raw:
        response = site.client.post("/api/images", data=data, content_type="image/png")
    else:
        response = site.client.post("/api/images", data={"file": (io.BytesIO(data), "fuzz.png")},
                                    content_type="multipart/form-data")
    assert response.status_code == 201 or 400 <= response.status_code < 500, response.status_code
    body = response.get_json()
    if response.status_code == 201:
        assert len(body["sha256"]) == 64 and body["width"] > 0 and body["height"] > 0
        TALLY["fuzz_accepted"] += 1
    else:
        assert set(body) == {"error"}
        harness.assert_clear_message(body["error"])
        TALLY["fuzz_refused"] += 1


def test_fuzzing_left_the_app_healthy(site: Site) -> None:
    """Runs after the fuzz test (file order): the app still answers normally."""
    assert_still_healthy(site)
    health = site.client.get("/healthz")
    assert health.status_code == 200 and health.get_json()["status"] == "ok"
    # Nothing half-written in the image store: every stored file decodes to its own hash.
    for path in Path(site.analyzer.settings.images_dir).rglob("*.png"):
        assert site.analyzer.library.store.get(path.stem) is not None, path
    case_passed()
