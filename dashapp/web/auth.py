"""Optional access control for hosted use (off by default).

``DASHAPP_AUTH=basic`` asks for HTTP Basic credentials on every request:
pages, callbacks, assets and the JSON API alike (one ``before_request`` on the
Flask server covers them all). ``DASHAPP_AUTH=header`` takes the user from a
reverse proxy's header (``DASHAPP_AUTH_HEADER``), but only from the proxy: the
request must also carry the shared proxy secret (``DASHAPP_AUTH_PROXY_SECRET``
in ``DASHAPP_AUTH_PROXY_SECRET_HEADER``) or come from a trusted proxy address
(``DASHAPP_AUTH_TRUSTED_PROXIES``), both when both are set. Secrets are
compared in constant time and never logged.

The user so known owns the collections and scans they make
(``collections/owners.py``): ``install`` hands the collection service a
``viewer`` that reads the request's user.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from dash import Dash
from flask import Response, has_request_context, jsonify, request

from dashapp.collections.owners import ANYONE, Viewer
from dashapp.config.settings import Settings, check_auth
from dashapp.i18n import _

OPEN_PATHS = ("/healthz",)
MAX_USER_CHARS = 200


def _unauthorized(realm: str) -> Response:
    response = jsonify({"error": _("Authentication required.")})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = f'Basic realm="{realm}", charset="UTF-8"'
    return response


def _refused(message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = 401
    return response


def from_trusted_proxy(settings: Settings, remote_addr: str | None) -> bool:
    """Whether the peer of this connection is one of the trusted proxies."""
    try:
        address = ipaddress.ip_address((remote_addr or "").split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in settings.auth_trusted_proxies)


def proxy_vouches(settings: Settings) -> bool:
    """Whether this request came through the authenticating proxy."""
    if settings.auth_proxy_secret:
        sent = request.headers.get(settings.auth_proxy_secret_header, "")
        if not hmac.compare_digest(sent.encode(), settings.auth_proxy_secret.encode()):
            return False
    return not settings.auth_trusted_proxies or from_trusted_proxy(settings, request.remote_addr)


def basic_credentials_valid(settings: Settings) -> bool:
    """Whether the request carries one of ``DASHAPP_AUTH_USERS``' name and password."""
    auth = request.authorization
    if auth is None or auth.type != "basic" or auth.username is None or auth.password is None:
        return False
    users = {user.encode(): password.encode() for user, password in settings.auth_users}
    expected = users.get(auth.username.encode(), b"")
    # Compare even for unknown users, so timing does not reveal names.
    return hmac.compare_digest(expected or b"\0", auth.password.encode()) and bool(expected)


def authenticated(settings: Settings) -> bool:
    """Whether access control is on and this request passes it (the open
    paths, ``/healthz``, are served either way and ask this to say more)."""
    if settings.auth == "basic":
        return basic_credentials_valid(settings)
    if settings.auth == "header":
        return proxy_vouches(settings) and bool(request.headers.get(settings.auth_header))
    return False


def user_name(settings: Settings) -> str | None:
    """The authenticated user of this request (None with access control off).
    Only meaningful once ``require_auth`` has let the request through."""
    if settings.auth == "basic":
        auth = request.authorization
        return (auth.username or "") if auth is not None else ""
    if settings.auth == "header":
        return request.headers.get(settings.auth_header, "")[:MAX_USER_CHARS]
    return None


def viewer_source(settings: Settings) -> Any:
    """Who asks, for the collection service: the request's user; outside a
    request (the server's own background work, checked when it was asked for), anyone."""
    if settings.auth == "none":
        return lambda: ANYONE

    def viewer() -> Viewer:
        return Viewer(user_name(settings)) if has_request_context() else ANYONE

    return viewer


def install(app: Dash, settings: Settings) -> None:
    check_auth(settings)  # refuse to serve with header mode open to anyone
    service = app.server.extensions.get("dashapp.analyzer")  # the API installs it first
    if service is not None:
        service.collections.viewer = viewer_source(settings)
    if settings.auth == "none":
        return
    server = app.server

    @server.before_request
    def require_auth() -> Any:
        if request.path in OPEN_PATHS:
            return None
        if settings.auth == "basic" and not basic_credentials_valid(settings):
            return _unauthorized("CNN Activation Analyzer")
        if settings.auth == "header":
            if not proxy_vouches(settings):
                return _refused(_("Authentication required (this request did not come through the proxy)."))
            if not request.headers.get(settings.auth_header):
                return _refused(_("Authentication required (no user header from the proxy)."))
        return None
