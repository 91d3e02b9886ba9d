"""Optional access control for hosted use (off by default).

``DASHAPP_AUTH=basic`` asks for HTTP Basic credentials on every request:
pages, callbacks, assets and the JSON API alike (one ``before_request`` on the
Flask server covers them all). ``DASHAPP_AUTH=header`` trusts a reverse proxy
that authenticates users and passes the name in ``DASHAPP_AUTH_HEADER``.
Credentials are compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
from typing import Any

from dash import Dash
from flask import Response, jsonify, request

from .settings import Settings

OPEN_PATHS = ("/healthz",)


def _unauthorized(realm: str) -> Response:
    response = jsonify({"error": "Authentication required."})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = f'Basic realm="{realm}", charset="UTF-8"'
    return response


def install(app: Dash, settings: Settings) -> None:
    if settings.auth == "none":
        return
    server = app.server
    users = {user.encode(): password.encode() for user, password in settings.auth_users}

    def check_basic() -> bool:
        auth = request.authorization
        if auth is None or auth.type != "basic" or auth.username is None or auth.password is None:
            return False
        expected = users.get(auth.username.encode(), b"")
        # Compare even for unknown users, so timing does not reveal names.
        return hmac.compare_digest(expected or b"\0", auth.password.encode()) and bool(expected)

    @server.before_request
    def require_auth() -> Any:
        if request.path in OPEN_PATHS:
            return None
        if settings.auth == "basic" and not check_basic():
            return _unauthorized("CNN Activation Analyzer")
        if settings.auth == "header" and not request.headers.get(settings.auth_header):
            response = jsonify({"error": "Authentication required (no user header from the proxy)."})
            response.status_code = 401
            return response
        return None
