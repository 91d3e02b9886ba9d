"""Refuse state-changing requests sent by other sites' pages.

A browser attaches cookies and HTTP Basic credentials to any request, even one
a foreign page makes (a form posting an image to ``/api/images``). Browsers
also say where such a request comes from: ``Origin`` on every POST, and
``Sec-Fetch-Site``. A POST, PUT, PATCH or DELETE whose ``Origin`` names
another host than the one it was sent to, or that the browser marks
``cross-site``, is answered 403. Scripts (curl, requests) send neither header
and pass; so do the app's own pages, whose requests are same-origin.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from flask import Flask, jsonify, request

from dashapp.i18n import _

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def cross_site() -> bool:
    """Whether the current request was made by another site's page."""
    if request.headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    # Only the host and port: a TLS-terminating proxy makes the scheme differ.
    parts = urllib.parse.urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return True  # "null" (sandboxed frames, data: pages) or nonsense
    default = {"http": "80", "https": "443"}[parts.scheme]
    return _host_port(parts.netloc, default) != _host_port(request.host, default)


def _host_port(netloc: str, default_port: str) -> str:
    host = netloc.rsplit("@", 1)[-1].lower()
    if host.endswith("]") or ":" not in host.rsplit("]", 1)[-1]:
        return f"{host}:{default_port}"
    return host


def install(server: Flask) -> None:
    @server.before_request
    def refuse_cross_site() -> Any:
        if request.method in STATE_CHANGING and cross_site():
            message = _("Cross-site requests are refused: send this from the app's own pages or without an "
                        "Origin header (scripts).")
            response = jsonify({"error": message})
            response.status_code = 403
            return response
        return None
