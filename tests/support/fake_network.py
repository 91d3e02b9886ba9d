"""Loopback-only networking for URL tests: a resolver that answers from a
table, a guard that refuses any connection past 127.0.0.1, and small HTTP
servers that record every request, never answer, or stream forever."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# --------------------------------------------------------------------------- network safety


def is_loopback(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


@dataclass
class ConnectionGuard:
    """Wraps ``socket.create_connection``: loopback goes through, anything else is
    refused on the spot (and recorded), so a test can never send traffic off the machine."""

    real: Callable[..., socket.socket]
    attempts: list[tuple[str, int]] = field(default_factory=list)
    refused: list[tuple[str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        host, port = str(address[0]), int(address[1])
        with self.lock:
            self.attempts.append((host, port))
            if not is_loopback(host):
                self.refused.append((host, port))
                raise ConnectionRefusedError(f"test guard: no traffic to {host} from the test suite")
        return self.real(address, *args, **kwargs)

    def attempts_to(self, port: int) -> list[tuple[str, int]]:
        with self.lock:
            return [a for a in self.attempts if a[1] == port]


@dataclass
class FakeResolver:
    """Stands in for ``socket.getaddrinfo``: IP literals resolve to themselves, the
    names in ``table`` to their listed addresses, and every other name fails, so no
    DNS query ever leaves the process."""

    table: dict[str, list[str]]
    lookups: list[str] = field(default_factory=list)

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        self.lookups.append(name)
        try:
            addresses = [str(ipaddress.ip_address(name))]
        except ValueError:
            if name not in self.table:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
            addresses = self.table[name]
        number = int(port or 0)
        result: list[tuple[Any, ...]] = []
        for address in addresses:
            if ":" in address:
                result.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, number, 0, 0)))
            else:
                result.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, number)))
        return result


# --------------------------------------------------------------------------- loopback servers

Route = Callable[[BaseHTTPRequestHandler], None]


class _RecordingHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: LoopbackHTTPServer

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.owner.lock:
            self.owner.connections += 1
        super().process_request(request, client_address)


class LoopbackHTTPServer:
    """An HTTP server on 127.0.0.1 with a route table; it counts connections and requests."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connections = 0
        self.paths: list[str] = []
        self.release = threading.Event()  # set on stop: streaming handlers return
        self.routes: dict[str, Route] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with owner.lock:
                    owner.paths.append(self.path)
                route = owner.routes.get(self.path.split("?")[0])
                try:
                    if route is None:
                        answer(self, 404, b"not here", "text/plain")
                    else:
                        route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up: several tests want exactly that
                self.close_connection = True

        self._server = _RecordingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.owner = self
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"loopback-http-{self.port}", daemon=True)
        self._thread.start()

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def requests_seen(self) -> list[str]:
        with self.lock:
            return list(self.paths)

    def connections_seen(self) -> int:
        with self.lock:
            return self.connections

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def answer(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str, **headers: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Connection", "close")
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(body)


def redirect_to(location: str, status: int = 302) -> Route:
    return lambda handler: answer(handler, status, b"", "text/plain", Location=location)


def serve_bytes(body: bytes, content_type: str = "image/png") -> Route:
    return lambda handler: answer(handler, 200, body, content_type)


def stream_forever(server: LoopbackHTTPServer, chunk: bytes = b"\x00" * 512, pace_s: float = 0.05) -> Route:
    """200 with no length, then a small chunk every ``pace_s`` until the server stops."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(b"\x89PNG\r\n\x1a\n")
        while True:
            handler.wfile.write(chunk)
            handler.wfile.flush()
            # Paces the stream; doubles as the stop signal.
            if server.release.wait(pace_s):
                return

    return route


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never sends a byte."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.05)
        self.port = int(self._sock.getsockname()[1])
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self.lock = threading.Lock()
        self.accepted = 0
        self._thread = threading.Thread(target=self._loop, name=f"silent-{self.port}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self.lock:
                self.accepted += 1
                self._held.append(conn)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        with self.lock:
            for conn in self._held:
                with contextlib.suppress(OSError):
                    conn.close()
        self._sock.close()


@contextlib.contextmanager
def running(server: LoopbackHTTPServer | SilentServer) -> Iterator[Any]:
    try:
        yield server
    finally:
        server.stop()


