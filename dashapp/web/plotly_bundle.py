"""plotly.js for the pages: a bundle of the traces the app draws, in place of the full one.

dcc.Graph loads plotly.js itself, from Dash's address below, when the first
graph mounts (unless ``window.Plotly`` is already there). Every trace the app
draws is scatter, heatmap, bar or box, so the page gets plotly.js's core with
those three registered (``vendor/plotly-analyzer.min.js``, built by
``scripts/plotly-bundle`` from npm ``plotly.js``, the version plotly.py ships,
MIT licence beside it): 1.3 MB against the full bundle's 4.8 MB, and in
headless Chromium it runs in about a third of the time plotly.js's cartesian
bundle (1.5 MB: contour, violin, ternary, calendars, ...) took, the longest
single task of a first visit. It is served at Dash's own address, so
dcc.Graph's loading and the plotly locale (assets/js/language.js) work as
before, and compressed once per worker like Dash's other files
(web/compression.py). The page's head preloads it (ui/layout/shell.py), so its
download starts with the other scripts instead of after the first graph
mounts.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, Response, request

__all__ = ["PLOTLY_PATH", "install"]

PLOTLY_PATH = "/_dash-component-suites/plotly/package_data/plotly.min.js"
BUNDLE = Path(__file__).resolve().parent / "vendor" / "plotly-analyzer.min.js"
# The address carries no version: revalidated (ETag) after an hour, so an
# upgraded app is not held back by a browser's copy for long.
MAX_AGE = 3600


def install(server: Flask) -> None:
    body = BUNDLE.read_bytes()
    etag = hashlib.sha256(body).hexdigest()[:32]

    @server.before_request
    def serve_bundle() -> Response | None:
        if request.path != PLOTLY_PATH or request.method not in ("GET", "HEAD"):
            return None
        if request.if_none_match.contains(etag):
            response = Response(status=304)
        else:
            response = Response(body, mimetype="application/javascript")
        response.set_etag(etag)
        response.cache_control.public = True
        response.cache_control.max_age = MAX_AGE
        return response
