"""Compressed responses, so that a first visit is light.

Uncompressed, a first visit moves 6.7 MB, 4.8 MB of it plotly.min.js. Two
kinds of response are compressed differently:

* Dash's component files (``/_dash-component-suites/...``: fingerprinted
  names with a year-long max-age, or plotly.min.js with a ``?v=`` version
  query) never change for a given address while the process runs, so each is
  compressed once per worker, at a level no per-request compression could
  afford (zstd 9 makes plotly.min.js 1.3 MB in ~0.3 s), and kept;
* everything else that is text (HTML, callback answers, assets) is compressed
  per response by flask-compress at its fastest levels.

Assets under ``/assets/`` carry Dash's ``?m=<mtime>`` fingerprint in the page,
so a fingerprinted asset request gets the same year-long max-age.
"""

from __future__ import annotations

import gzip
import threading

import brotli
from flask import Flask, Response, request
from flask_compress import Compress
from flask_compress.compat import compression

__all__ = ["install"]

SUITES = "/_dash-component-suites/"
YEAR = 31536000
ENCODINGS = ("zstd", "br", "gzip")  # best first; Chromium, Firefox and Safari accept br and gzip, Chromium zstd


def _compress(data: bytes, encoding: str) -> bytes:
    if encoding == "zstd":
        return bytes(compression.zstd.compress(data, 9))
    if encoding == "br":
        return bytes(brotli.compress(data, quality=6))
    return gzip.compress(data, 9)


class StaticBodies:
    """Compressed bodies of Dash's versioned files, per (path, encoding)."""

    def __init__(self) -> None:
        self._bodies: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()

    def get(self, path: str, encoding: str, data: bytes) -> bytes:
        key = (path, encoding)
        body = self._bodies.get(key)
        if body is None:
            body = _compress(data, encoding)
            with self._lock:
                self._bodies[key] = body
        return body


def _encoding() -> str | None:
    accepted = request.accept_encodings
    for encoding in ENCODINGS:
        if accepted.quality(encoding) > 0:
            return encoding
    return None


def install(server: Flask) -> None:
    """flask-compress for every text response, and a once-per-worker cache for
    Dash's versioned files (checked first: Flask runs the last-registered
    after-request hook first, and flask-compress leaves encoded responses alone)."""
    # Per-response compression sits on every callback and API answer: the
    # fastest levels, zstd or gzip before brotli (slower at equal ratio), and
    # nothing under 2 KB, where it saves little and costs a worker's CPU.
    server.config.setdefault("COMPRESS_ALGORITHM", ["zstd", "gzip", "br", "deflate"])
    server.config.setdefault("COMPRESS_ZSTD_LEVEL", 1)
    server.config.setdefault("COMPRESS_LEVEL", 1)
    server.config.setdefault("COMPRESS_BR_LEVEL", 1)
    server.config.setdefault("COMPRESS_MIN_SIZE", 2048)
    Compress(server)
    bodies = StaticBodies()

    @server.after_request
    def compress_static(response: Response) -> Response:
        if request.method != "GET" or response.status_code != 200:
            return response
        # Dash's favicon address carries its version (?v=): without a
        # max-age the browser fetched it again after every control change.
        if (request.path.startswith("/assets/") and "m" in request.args) or \
                (request.path == "/_favicon.ico" and "v" in request.args):
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            return response
        # Dash serves these from installed packages, so one address (path and
        # its ?v=/&m= version query) is one body for the life of the process.
        suite = request.path.startswith(SUITES)
        encoding = _encoding() if suite and not response.is_streamed else None
        if encoding is None or "Content-Encoding" in response.headers:
            return response
        response.set_data(bodies.get(request.full_path, encoding, response.get_data()))
        response.headers["Content-Encoding"] = encoding
        response.vary.add("Accept-Encoding")
        return response
