"""A weights mirror on 127.0.0.1 that records every request (path and
Authorization header), for the tests of who may make the server download."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Seen:
    path: str
    authorization: str | None


class RecordingMirror:
    """Serves ``files`` (name -> bytes) with 200, anything else with ``status``.
    ``before_answer`` runs before each answer (a test may hold it there)."""

    def __init__(self, files: dict[str, bytes] | None = None, status: int = 404,
                 before_answer: Callable[[], None] | None = None) -> None:
        self.files = dict(files or {})
        self.status = status
        self.before_answer = before_answer
        self.lock = threading.Lock()
        self.seen: list[Seen] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with owner.lock:
                    owner.seen.append(Seen(self.path, self.headers.get("Authorization")))
                if owner.before_answer:
                    owner.before_answer()
                body = owner.files.get(self.path.rsplit("/", 1)[-1])
                code = 200 if body is not None else owner.status
                body = body if body is not None else b"no such file"
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def url(self, userinfo: str = "") -> str:
        return f"http://{userinfo + '@' if userinfo else ''}127.0.0.1:{self.port}/weights"

    def requests(self) -> list[Seen]:
        with self.lock:
            return list(self.seen)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
