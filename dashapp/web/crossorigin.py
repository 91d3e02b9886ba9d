"""Refuse state-changing requests sent by other sites' pages.

A browser attaches cookies and HTTP Basic credentials to any request, even one
a foreign page makes (a form posting an image to ``/api/images``). Browsers
also say where such a request comes from: ``Origin`` on every POST, and
``Sec-Fetch-Site``. A POST, PUT, PATCH or DELETE whose ``Origin`` names
another origin than the app's, or that the browser marks ``cross-site``, is
answered 403. The app's origin is ``DASHAPP_PUBLIC_URL`` when set (the
``Host`` header is the client's to choose); otherwise the host the request
was sent to. Scripts (curl, requests) send neither header and pass; so do the
app's own pages, whose requests are same-origin.

A GET route that starts work a page view would not (a sanity check) is
marked ``@same_site_only``: another site's page (an ``<img>`` pointing at it)
cannot make the server compute it.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, jsonify, request

from dashapp.config.settings import Settings
from dashapp.i18n import _

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MARK = "dashapp_same_site_only"
View = TypeVar("View", bound=Callable[..., Any])


def same_site_only(view: View) -> View:
    """Mark a GET route that starts costly work: refused to other sites' pages too."""
    setattr(view, MARK, True)
    return view


def cross_site(public_url: str | None = None) -> bool:
    """Whether the current request was made by another site's page."""
    if request.headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    parts = urllib.parse.urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return True  # "null" (sandboxed frames, data: pages) or nonsense
    if public_url:
        own = urllib.parse.urlsplit(public_url)
        return (parts.scheme, _host_port(parts.netloc, parts.scheme)) != (own.scheme,
                                                                           _host_port(own.netloc, own.scheme))
    # Only the host and port: a TLS-terminating proxy makes the scheme differ.
    return _host_port(parts.netloc, parts.scheme) != _host_port(request.host, parts.scheme)


def _host_port(netloc: str, scheme: str) -> str:
    default_port = {"http": "80", "https": "443"}[scheme]
    host = netloc.rsplit("@", 1)[-1].lower()
    if host.endswith("]") or ":" not in host.rsplit("]", 1)[-1]:
        return f"{host}:{default_port}"
    return host


def install(server: Flask, settings: Settings) -> None:
    @server.before_request
    def refuse_cross_site() -> Any:
        view = server.view_functions.get(request.endpoint or "")
        guarded = request.method in STATE_CHANGING or getattr(view, MARK, False)
        if guarded and cross_site(settings.public_url):
            message = _("Cross-site requests are refused: send this from the app's own pages or without an "
                        "Origin header (scripts).")
            response = jsonify({"error": message})
            response.status_code = 403
            return response
        return None
