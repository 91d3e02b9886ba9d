"""Slow clients cannot starve the Procfile's gunicorn (issue 25).

Twenty-four connections on loopback, each sending its request head one byte
every two seconds (and reconnecting when closed, as an attacker would), used
to hold every thread of a gthread worker (16, as the Procfile), so that
``/healthz`` timed out. With the
Procfile's flags and its ``gunicorn.conf.py`` (a deadline on the request
head), a slow connection is closed after ``HEAD_TIMEOUT_S`` and ``/healthz``
is answered while the attack goes on.
"""

from __future__ import annotations

import contextlib
import importlib.util
import shlex
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from devtools.servers import REPO_ROOT, GunicornServer, start_gunicorn, wait_for

SLOW_CONNECTIONS = 24  # the 20-40: more than one worker's 16 threads
BYTE_EVERY_S = 2.0
ATTACK_S = 45.0  # the attack's bound in time
PROBES = 4

pytestmark = pytest.mark.slow


def procfile_slow_client_flags() -> tuple[str, ...]:
    """The Procfile's flags that concern slow clients, for the test server."""
    words = next(shlex.split(line.removeprefix("web:")) for line in (REPO_ROOT / "Procfile").read_text().splitlines()
                 if line.startswith("web:"))
    wanted = ("--config", "--keep-alive", "--limit-request-line", "--limit-request-fields",
              "--limit-request-field_size")
    found: list[str] = []
    for name in wanted:
        assert name in words, f"the Procfile's web: line has no {name}"
        found += [name, words[words.index(name) + 1]]
    return tuple(found)


def head_timeout() -> float:
    spec = importlib.util.spec_from_file_location("gunicorn_conf", REPO_ROOT / "gunicorn.conf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return float(module.HEAD_TIMEOUT_S)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    # One worker (and one model) boots in half the time; the Procfile's threads and slow-client flags.
    started = start_gunicorn({"DASHAPP_MODELS": "alexnet"}, workers=1, tmp_dir=Path(tmp_path_factory.mktemp("slow")),
                             extra_args=procfile_slow_client_flags())
    try:
        yield started
    finally:
        started.stop()


class Slowloris:
    """``count`` loopback connections trickling a request head, one byte per
    ``every`` seconds each, reopened when the server closes them; stopped by
    ``stop()`` or after ``ATTACK_S``."""

    HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 4000

    def __init__(self, port: int, count: int, every: float) -> None:
        self.port, self.count, self.every = port, count, every
        self.sockets: list[tuple[socket.socket, int]] = []
        self.closed_by_server = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def connect(self) -> tuple[socket.socket, int]:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        sock.sendall(self.HEAD[:1])
        return sock, 1

    def run(self) -> None:
        deadline = time.monotonic() + ATTACK_S
        self.sockets = [self.connect() for _ in range(self.count)]
        while not self.done.wait(self.every) and time.monotonic() < deadline:
            for i, (sock, sent) in enumerate(self.sockets):
                try:
                    sock.sendall(self.HEAD[sent:sent + 1])
                    self.sockets[i] = (sock, sent + 1)
                except OSError:
                    self.closed_by_server += 1
                    sock.close()
                    with contextlib.suppress(OSError):
                        self.sockets[i] = self.connect()
        for sock, _ in self.sockets:
            sock.close()

    def __enter__(self) -> Slowloris:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.done.set()
        self.thread.join(ATTACK_S)


def test_slow_connections_do_not_starve_healthz(server: GunicornServer) -> None:
    limit = head_timeout()
    with Slowloris(server.port, SLOW_CONNECTIONS, BYTE_EVERY_S) as attack:
        time.sleep(2 * BYTE_EVERY_S)  # every slow connection holds a thread by now (each has sent bytes)
        waits = []
        for _ in range(PROBES):
            started = time.monotonic()
            answer = requests.get(f"{server.url}/healthz", timeout=3 * limit)  # the old server never answered
            waits.append(time.monotonic() - started)
            assert answer.status_code == 200 and answer.json()["status"] == "ok"
        assert max(waits) < 2 * limit + 5, waits
        # The server closes slow heads (the attack reconnects) rather than holding them.
        wait_for(lambda: attack.closed_by_server > 0, 3 * limit, "the server to close a slow connection")
