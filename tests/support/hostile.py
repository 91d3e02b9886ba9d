"""Hostile payloads and loopback-only servers for the end-to-end hostile-input suites.

Everything here is built in memory (no files, no network): image files that
lie about themselves, pixel bombs, documents that pretend to be images, and
small HTTP servers on 127.0.0.1 that record every connection, never answer,
or stream forever. ``FakeResolver`` and ``ConnectionGuard`` make sure that a
URL test can never reach past the loopback interface, whatever the app does.
"""

from __future__ import annotations

import base64
import contextlib
import io
import ipaddress
import re
import socket
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from contextvars import copy_context
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
from dash import Dash
from dash._callback_context import context_value
from dash._utils import AttributeDict
from PIL import Image

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"

# Words that only show up when internals leak into a user-facing message.
LEAK_MARKERS = ("Traceback", "Internal Server Error", 'File "', "Errno", "<class", "object at 0x", "site-packages")


# --------------------------------------------------------------------------- messages


def assert_clear_message(message: object, *, max_length: int = 1000) -> str:
    """A message meant for a person: text, non-empty, short, no internals."""
    assert isinstance(message, str), f"message is {type(message).__name__}: {message!r}"
    text = message.strip()
    assert text, "empty message"
    assert len(text) <= max_length, f"message is {len(text):,} characters long: {text[:200]!r}..."
    for marker in LEAK_MARKERS:
        assert marker not in text, f"message leaks {marker!r}: {text[:300]!r}"
    return text


def states_zero_limit(message: str) -> bool:
    """Whether a size message claims a limit of zero ("the 0 MB limit")."""
    return re.search(r"(?<![\d.,])0(?:\.0+)? ?(?:bytes|[KMG]i?B)\b", message) is not None


def alert_text(component: Any) -> str:
    """The visible text of a Dash component tree (an Alert, a list of them, a string)."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(alert_text(child) for child in component)
    return alert_text(getattr(component, "children", None))


# --------------------------------------------------------------------------- Dash callbacks as functions


def find_callback(app: Dash, output: str) -> Callable[..., Any]:
    """The undecorated function of the server callback whose outputs include ``output``."""
    for key, value in app.callback_map.items():
        if output in key and "callback" in value:
            return value["callback"].__wrapped__
    raise KeyError(output)


def callback_outputs(app: Dash, output: str) -> list[str]:
    """The "id.property" outputs, in order, of the server callback whose outputs include ``output``."""
    for key, value in app.callback_map.items():
        if output in key and "callback" in value:
            # Multi-output keys read "..a.b...c.d.."; a single output may carry an "@hash" suffix.
            return [part.split("@")[0] for part in key.strip(".").split("...")]
    raise KeyError(output)


STATE_CONTROLS = ("resnet18", "layer2.0.conv1", 6, "balanced", 0.15, 0.5, 0.5, "Jet")


def sync_state(app: Dash, search: str) -> dict[str, Any]:
    """The URL-state callback as on a page load with ``search`` in the address bar,
    its outputs keyed by "id.property" (so a reordering of outputs cannot mislead a test)."""
    func = find_callback(app, "view-state.data")
    names = callback_outputs(app, "view-state.data")
    values = run_callback(func, "url.search", search, *STATE_CONTROLS, None, None, None)
    assert len(values) == len(names), (names, len(values))
    return dict(zip(names, values, strict=True))


def run_callback(func: Callable[..., Any], trigger: str | None, *args: Any) -> Any:
    """Call a callback with a real callback context whose trigger is ``trigger`` ("id.prop")."""

    def call() -> Any:
        triggered = [{"prop_id": trigger, "value": None}] if trigger else []
        context_value.set(AttributeDict(triggered_inputs=triggered, inputs_list=[], states_list=[],
                                        outputs_list=[], input_values={}, state_values={}))
        return func(*args)

    return copy_context().run(call)


def data_url(data: bytes, mime: str = "image/png") -> str:
    """What the browser's upload component hands to the server: a base64 data URL."""
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------- image payloads


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def noise(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), mode="RGB")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def handmade_png(width: int, height: int, bit_depth: int, color_type: int, idat: bytes) -> bytes:
    """A PNG with the given header and compressed pixel stream; every CRC is valid."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def declared_size_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid-looking PNG whose IHDR declares ``width`` x ``height`` but carries one row."""
    return handmade_png(width, height, 8, 2, zlib.compress(b"\x00" + b"\x00" * 30))


def pixel_bomb_png(side: int = 7000) -> bytes:
    """A real, fully decodable 1-bit ``side`` x ``side`` PNG that compresses to a few KB."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    return handmade_png(side, side, 1, 0, zlib.compress(row * side, 9))


def rgb16_png(width: int = 24, height: int = 16) -> bytes:
    """A 48-bit (16 bits per channel) RGB PNG, which Pillow cannot write itself."""
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 65536, (height, width, 3), dtype=np.uint16).astype(">u2")
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(height))
    return handmade_png(width, height, 16, 2, zlib.compress(raw))


def gray16_png(width: int = 24, height: int = 16) -> bytes:
    ramp = np.linspace(0, 65535, width * height, dtype=np.uint16).reshape(height, width)
    return encode(Image.fromarray(ramp), "PNG")


def palette_png(transparent: bool = False) -> bytes:
    image = noise(32, 24, seed=5).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    return encode(image, "PNG", transparency=0) if transparent else encode(image, "PNG")


FIRST_FRAME = (255, 0, 0)


def animated_gif(size: tuple[int, int] = (16, 12)) -> bytes:
    """Two frames, red then blue: only the red one may be analysed."""
    frames = [Image.new("RGB", size, FIRST_FRAME), Image.new("RGB", size, (0, 0, 255))]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)


def cmyk_jpeg() -> bytes:
    return encode(noise(40, 30, seed=9).convert("CMYK"), "JPEG", quality=85)


def exif_rotated_jpeg(width: int = 40, height: int = 20, orientation: int = 6) -> bytes:
    """Stored ``width`` x ``height``; EXIF says rotate, so it is shown ``height`` x ``width``."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(noise(width, height, seed=2), "JPEG", quality=90, exif=exif.tobytes())


def solid_png(width: int, height: int, colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    return encode(Image.new("RGB", (width, height), colour), "PNG")


def example(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


def truncated(data: bytes, fraction: float = 0.5) -> bytes:
    return data[: max(1, int(len(data) * fraction))]


SVG = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<script>alert(1)</script><rect width="10" height="10"/></svg>')
HTML = b"<!DOCTYPE html><html><head><title>x</title></head><body><img src=x onerror=alert(1)></body></html>"
NOT_AN_IMAGE = b"This is a plain text file, certainly not a picture.\n" * 20


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


# --------------------------------------------------------------------------- synthetic activations

SYNTHETIC_LAYERS: dict[str, tuple[int, int, int]] = {"a": (4, 5, 5), "b": (8, 3, 3), "c": (2, 6, 6), "d": (3, 4, 7)}


def synthetic_responses(sha: str, model: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A stand-in forward pass for ``ActivationStore``: deterministic maps per (image, model)."""
    seed = int(sha[:8], 16) ^ sum(model.encode())
    rng = np.random.default_rng(seed)
    responses = {name: rng.standard_normal(shape).astype(np.float32) for name, shape in SYNTHETIC_LAYERS.items()}
    return responses, {"top": [{"index": 0, "label": "synthetic", "probability": 1.0}]}
