"""Server-Timing headers: only in debug mode, with the server's own time."""

from __future__ import annotations

import re

from flask import Flask

from dashapp.web.timing import install


def app_with_timing(enabled: bool) -> Flask:
    server = Flask(__name__)
    server.add_url_rule("/", "index", lambda: "ok")
    install(server, enabled)
    return server


def test_debug_mode_reports_the_server_time() -> None:
    header = app_with_timing(True).test_client().get("/").headers.get("Server-Timing", "")
    match = re.fullmatch(r"app;dur=(\d+\.\d)", header)
    assert match and 0 <= float(match.group(1)) < 60_000, header


def test_no_header_outside_debug_mode() -> None:
    assert "Server-Timing" not in app_with_timing(False).test_client().get("/").headers
