"""gunicorn's configuration file (read from the working directory, and named
by the Procfile): a deadline on reading a request's head.

gunicorn's threaded worker hands a connection to a thread as soon as its first
byte arrives, and the thread then reads the request line and headers for as
long as the client takes: a client sending one byte every few seconds holds a
thread indefinitely, and some tens of them held every thread, so that
``/healthz`` timed out. Here the head must arrive within ``HEAD_TIMEOUT_S`` of
its first byte, or the connection is closed and the thread freed. Bodies are
not bounded here (a slow upload is legitimate); the intended deployment puts
a buffering reverse proxy in front (docs/deployment.md), which sends gunicorn
only whole requests.

This file runs in gunicorn's master before the workers fork: it imports
gunicorn and the standard library only (never the app, which loads torch).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from typing import Any, NoReturn

HEAD_TIMEOUT_S = 10.0

log = logging.getLogger("gunicorn.error")


def _bound_request_heads() -> None:
    try:
        from gunicorn.http.errors import NoMoreData
        from gunicorn.http.message import Request
        from gunicorn.http.unreader import SocketUnreader
    except ImportError:  # a gunicorn whose internals moved: say so, serve anyway
        log.warning("gunicorn.conf.py: cannot bound request heads on this gunicorn version")
        return
    if getattr(Request.parse, "head_deadline", False):
        return  # read twice (gunicorn reads its config file in the master and on reload)
    parse, chunk = Request.parse, SocketUnreader.chunk

    def bounded_parse(self: Any, unreader: Any) -> Any:
        unreader.head_deadline = time.monotonic() + HEAD_TIMEOUT_S
        try:
            return parse(self, unreader)
        finally:
            unreader.head_deadline = None

    def bounded_chunk(self: Any, *args: Any, **kwargs: Any) -> Any:
        deadline = getattr(self, "head_deadline", None)
        if deadline is None:
            return chunk(self, *args, **kwargs)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            give_up(self.sock)
        prior = self.sock.gettimeout()
        self.sock.settimeout(remaining)
        try:
            return chunk(self, *args, **kwargs)
        except TimeoutError:
            give_up(self.sock)
        finally:
            self.sock.settimeout(prior)

    def give_up(sock: socket.socket) -> NoReturn:
        # Shut both ways first: gunicorn's graceful close (run on the worker's
        # main thread) would otherwise linger up to 2 s reading what this
        # client still trickles, once per connection, and stall every other one.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        raise NoMoreData(b"")  # gthread then drops the connection quietly

    bounded_parse.head_deadline = True  # type: ignore[attr-defined]
    Request.parse = bounded_parse
    SocketUnreader.chunk = bounded_chunk


_bound_request_heads()
