"""URL fetching end to end against real HTTP servers on 127.0.0.1 (never anything else)."""

from __future__ import annotations

import io
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

from dashapp import intake
from dashapp.intake import (
    AddressPolicy,
    FetchFailed,
    IntakeError,
    Limits,
    TooLarge,
    UnsupportedFormat,
    UrlRefused,
    accept_bytes,
    accept_url,
    fetch_url,
)

LOOPBACK = AddressPolicy(allow_loopback=True)
FAST = Limits(connect_timeout=2.0, read_timeout=2.0, total_timeout=5.0)


def png_bytes() -> bytes:
    rng = np.random.default_rng(7)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (12, 20, 3), dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


GOOD_PNG = png_bytes()


def assert_refusal(exc: BaseException, *expected: type[IntakeError]) -> None:
    assert isinstance(exc, expected), f"expected {expected}, got {type(exc).__name__}: {exc}"
    assert isinstance(exc, IntakeError)
    assert 400 <= exc.status < 500
    assert exc.message and exc.message == str(exc) and exc.message.isprintable()
    assert exc.message[0].isupper() and exc.message.endswith(".")
    for internal in ("Traceback", "Errno", "b'", "<class"):
        assert internal not in exc.message, exc.message


# --------------------------------------------------------------------------- test server


@dataclass
class ServerState:
    port: int = 0
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)
    release: threading.Event = field(default_factory=threading.Event)
    redirect_target: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        with self.lock:
            return [path for path, _ in self.requests]


def make_handler(state: ServerState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            with state.lock:
                state.requests.append((self.path, self.headers.get("Host", "")))
            route = routes.get(self.path.split("?")[0])
            try:
                if route is None:
                    self.answer(404, b"not here", "text/plain")
                else:
                    route(self)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, which is what several tests want

        def answer(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def redirect(self, location: str, status: int = 302) -> None:
            self.answer(status, b"", "text/plain", Location=location)

        def stream(self, chunk: bytes, pause: float) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            while True:
                self.wfile.write(chunk)
                self.wfile.flush()
                # Paces the stream and doubles as the teardown signal.
                if state.release.wait(pause):
                    return

    def good(h: Handler) -> None:
        h.answer(200, GOOD_PNG, "image/png")

    def good_but_labelled_html(h: Handler) -> None:
        h.answer(200, GOOD_PNG, "text/html")

    def html(h: Handler) -> None:
        h.answer(200, b"<!DOCTYPE html><html><body>not an image</body></html>", "image/png")

    def hang(h: Handler) -> None:
        state.release.wait(60)

    def slow_headers(h: Handler) -> None:
        h.wfile.write(b"HTTP/1.0 200 OK\r\n")
        while not state.release.is_set():
            h.wfile.write(b"X")  # one header byte at a time, never finishing the line
            h.wfile.flush()
            if state.release.wait(0.05):
                return

    def huge_length(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "image/png")
        h.send_header("Content-Length", str(10**9))
        h.end_headers()
        h.wfile.write(b"\x89PNG\r\n\x1a\n" + b"\x00" * 1000)

    def short_body(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(len(GOOD_PNG)))
        h.end_headers()
        h.wfile.write(GOOD_PNG[:50])

    routes: dict[str, Callable[[Handler], None]] = {
        "/good.png": good,
        "/labelled-html": good_but_labelled_html,
        "/page.html": html,
        "/missing": lambda h: h.answer(404, b"gone", "text/plain"),
        "/error": lambda h: h.answer(500, b"oops", "text/plain"),
        "/to-good": lambda h: h.redirect("good.png", 301),  # relative Location
        "/to-good-absolute": lambda h: h.redirect(state.url("/good.png", "localhost"), 308),
        "/hop1": lambda h: h.redirect("/hop2", 302),
        "/hop2": lambda h: h.redirect(state.redirect_target, 307),
        "/loop": lambda h: h.redirect("/loop", 302),
        "/no-location": lambda h: h.answer(302, b"", "text/plain"),
        "/hang": hang,
        "/slow-headers": slow_headers,
        "/slow-forever": lambda h: h.stream(b"\x89PNG\r\n\x1a\n" + b"x" * 92, 0.05),
        "/fast-forever": lambda h: h.stream(b"\x00" * 65536, 0.0),
        "/huge-length": huge_length,
        "/short-body": short_body,
    }
    return Handler


class JoiningServer(ThreadingHTTPServer):
    # Non-daemon handler threads are joined by server_close(), so no test leaves one behind.
    daemon_threads = False


@pytest.fixture
def server() -> Iterator[ServerState]:
    state = ServerState()
    httpd = JoiningServer(("127.0.0.1", 0), make_handler(state))
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()  # frees never-answering and streaming handlers
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
        assert not thread.is_alive()


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address the fetcher opens a TCP connection to, in order."""
    seen: list[str] = []
    real_create_connection = socket.create_connection

    def recording(address: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
        seen.append(address[0])
        if address[0] not in ("127.0.0.1", "::1"):
            raise AssertionError(f"test tried to leave the machine: {address!r}")
        return real_create_connection(address, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(intake.fetch.socket, "create_connection", recording)
    return seen


# --------------------------------------------------------------------------- happy paths


def test_good_png_is_fetched_and_accepted(server: ServerState, connections: list[str]) -> None:
    accepted = accept_url(server.url("/good.png"), FAST, LOOPBACK)
    assert accepted.sha256 == accept_bytes(GOOD_PNG).sha256
    assert (accepted.width, accepted.height) == (20, 12)
    assert accepted.source_format == "PNG"
    assert server.requests == [("/good.png", f"127.0.0.1:{server.port}")]
    assert connections == ["127.0.0.1"]


def test_content_type_is_ignored(server: ServerState, connections: list[str]) -> None:
    assert accept_url(server.url("/labelled-html"), FAST, LOOPBACK).source_format == "PNG"
    with pytest.raises(IntakeError) as info:
        accept_url(server.url("/page.html"), FAST, LOOPBACK)
    assert_refusal(info.value, UnsupportedFormat)


def test_host_header_carries_the_name_while_the_checked_address_is_dialled(
    server: ServerState, connections: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # First answer loopback, afterwards a private address: a DNS rebinding attempt. The fetcher
    # must ask once and connect to what it checked.
    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding(host: str, port: int, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        if host != "images.example.test":
            return real_getaddrinfo(host, port, *args, **kwargs)  # type: ignore[arg-type]
        lookups.append(host)
        address = "127.0.0.1" if len(lookups) == 1 else "10.0.0.5"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(intake.fetch.socket, "getaddrinfo", rebinding)
    data = fetch_url(f"http://images.example.test:{server.port}/good.png", FAST, LOOPBACK)
    assert data == GOOD_PNG
    assert lookups == ["images.example.test"]
    assert connections == ["127.0.0.1"]
    assert server.requests == [("/good.png", f"images.example.test:{server.port}")]


@pytest.mark.parametrize("path", ["/to-good", "/to-good-absolute"])
def test_redirects_are_followed(path: str, server: ServerState, connections: list[str]) -> None:
    assert fetch_url(server.url(path), FAST, LOOPBACK) == GOOD_PNG
    assert server.paths() == [path, "/good.png"]
    assert connections == ["127.0.0.1", "127.0.0.1"]


# --------------------------------------------------------------------------- refusals


def test_404_is_a_fetch_failure(server: ServerState, connections: list[str]) -> None:
    with pytest.raises(IntakeError) as info:
        fetch_url(server.url("/missing"), FAST, LOOPBACK)
    assert_refusal(info.value, FetchFailed)
    assert info.value.status == 422
    assert "404" in info.value.message and "Not Found" in info.value.message


def test_500_is_a_fetch_failure(server: ServerState, connections: list[str]) -> None:
    with pytest.raises(IntakeError) as info:
        fetch_url(server.url("/error"), FAST, LOOPBACK)
    assert_refusal(info.value, FetchFailed)
    assert "500" in info.value.message


def test_redirect_without_location_is_a_fetch_failure(server: ServerState, connections: list[str]) -> None:
    with pytest.raises(IntakeError) as info:
        fetch_url(server.url("/no-location"), FAST, LOOPBACK)
    assert_refusal(info.value, FetchFailed)


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::ffff:169.254.169.254]/",
        "http://0xa9fea9fe/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_FLUSHALL",
    ],
)
def test_redirect_chain_into_forbidden_target_is_refused_before_connecting(
    target: str, server: ServerState, connections: list[str]
) -> None:
    server.redirect_target = target
    with pytest.raises(IntakeError) as info:
        fetch_url(server.url("/hop1"), FAST, LOOPBACK)
    assert_refusal(info.value, UrlRefused)
    # Both loopback hops were made; the forbidden one never got a connection.
    assert server.paths() == ["/hop1", "/hop2"]
    assert connections == ["127.0.0.1", "127.0.0.1"]


def test_redirect_loop_is_refused(server: ServerState, connections: list[str]) -> None:
    limits = Limits(connect_timeout=2.0, read_timeout=2.0, total_timeout=5.0, max_redirects=3)
    with pytest.raises(IntakeError) as info:
        fetch_url(server.url("/loop"), limits, LOOPBACK)
    assert_refusal(info.value, UrlRefused)
    assert "redirected more than 3 times" in info.value.message
    assert server.paths() == ["/loop"] * 4


def test_server_that_never_answers_times_out(server: ServerState, connections: list[str]) -> None:
    limits = Limits(connect_timeout=1.0, read_timeout=0.5, total_timeout=2.0)
    started = time.monotonic()
    with pytest.raises(IntakeError) as info:
        fetch_url(server.url("/hang"), limits, LOOPBACK)
    elapsed = time.monotonic() - started
    assert_refusal(info.value, FetchFailed)
    assert 0.4 <= elapsed < 2.0 + 1.5


def test_header_trickle_is_cut_by_the_overall_deadline(server: ServerState, connections: list[str]) -> None:
    # Each byte arrives well within read_timeout, so only the total deadline can stop this.
    limits = Limits(connect_timeout=1.0, read_timeout=0.5, total_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(IntakeError) as info:
        fetch_url(server.url("/slow-headers"), limits, LOOPBACK)
    elapsed = time.monotonic() - started
    assert_refusal(info.value, FetchFailed)
    assert "took longer than 1 seconds" in info.value.message
    assert 0.9 <= elapsed < 1.0 + 1.5


def test_slow_endless_body_is_cut_by_the_overall_deadline(server: ServerState, connections: list[str]) -> None:
    limits = Limits(connect_timeout=1.0, read_timeout=0.5, total_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(IntakeError) as info:
        fetch_url(server.url("/slow-forever"), limits, LOOPBACK)
    elapsed = time.monotonic() - started
    assert_refusal(info.value, FetchFailed, TooLarge)
    assert 0.9 <= elapsed < 1.0 + 1.5


def test_fast_endless_body_is_cut_by_the_byte_cap(server: ServerState, connections: list[str]) -> None:
    limits = Limits(max_bytes=1_000_000, connect_timeout=2.0, read_timeout=2.0, total_timeout=10.0)
    with pytest.raises(IntakeError) as info:
        fetch_url(server.url("/fast-forever"), limits, LOOPBACK)
    assert_refusal(info.value, TooLarge)
    assert info.value.status == 413


def test_declared_length_over_the_cap_is_refused_early(server: ServerState, connections: list[str]) -> None:
    limits = Limits(max_bytes=100 * 1024, connect_timeout=2.0, read_timeout=2.0, total_timeout=5.0)
    with pytest.raises(IntakeError) as info:
        fetch_url(server.url("/huge-length"), limits, LOOPBACK)
    assert_refusal(info.value, TooLarge)
    # 10**9 bytes, stated before any body byte was read.
    assert info.value.message == "The image at that address is 953.7 MB; the limit is 100 KB."


def test_body_shorter_than_declared_is_a_fetch_failure(server: ServerState, connections: list[str]) -> None:
    with pytest.raises(IntakeError) as info:
        fetch_url(server.url("/short-body"), FAST, LOOPBACK)
    assert_refusal(info.value, FetchFailed)


def test_connection_refused_is_a_fetch_failure(connections: list[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more.
    with pytest.raises(IntakeError) as info:
        fetch_url(f"http://127.0.0.1:{port}/", FAST, LOOPBACK)
    assert_refusal(info.value, FetchFailed)


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "localhost", "2130706433", "127.1"])
def test_default_policy_refuses_loopback_servers(host: str, server: ServerState, connections: list[str]) -> None:
    with pytest.raises(IntakeError) as info:
        fetch_url(f"http://{host}:{server.port}/good.png")
    assert_refusal(info.value, UrlRefused)
    assert connections == []
    assert server.requests == []


def test_https_verifies_the_certificate_against_the_url_host(
    server: ServerState, connections: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The loopback server speaks plain HTTP, so the handshake must fail; what matters is that
    # TLS was attempted on the checked address, for the URL's host name, with verification on.
    real_getaddrinfo = socket.getaddrinfo
    wrapped: list[tuple[str | None, ssl.VerifyMode, bool]] = []
    real_wrap_socket = ssl.SSLContext.wrap_socket

    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        if host == "secure.example.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real_getaddrinfo(host, port, *args, **kwargs)  # type: ignore[arg-type]

    def recording_wrap(self: ssl.SSLContext, sock: socket.socket, *args: object, **kwargs: object) -> ssl.SSLSocket:
        wrapped.append((kwargs.get("server_hostname"), self.verify_mode, self.check_hostname))  # type: ignore[arg-type]
        return real_wrap_socket(self, sock, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(intake.fetch.socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(ssl.SSLContext, "wrap_socket", recording_wrap)
    with pytest.raises(IntakeError) as info:
        fetch_url(f"https://secure.example.test:{server.port}/good.png", FAST, LOOPBACK)
    assert_refusal(info.value, FetchFailed)
    assert wrapped == [("secure.example.test", ssl.CERT_REQUIRED, True)]
    assert connections == ["127.0.0.1"]


def test_spaces_and_non_ascii_in_the_address_are_sent_percent_encoded(
    server: ServerState, connections: list[str]
) -> None:
    assert fetch_url(server.url("/good.png?name=café au lait"), FAST, LOOPBACK) == GOOD_PNG
    assert server.paths() == ["/good.png?name=caf%C3%A9%20au%20lait"]
