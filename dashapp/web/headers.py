"""Security headers on every response: pages, callbacks, assets, the API and refusals alike.

Clickjacking: no other site may show the app in a frame
(``Content-Security-Policy: frame-ancestors 'none'`` and, for older browsers,
``X-Frame-Options: DENY``), unless ``DASHAPP_FRAME_ANCESTORS`` names the
origins of the team's own pages that embed it; those are then listed in
``frame-ancestors`` and ``X-Frame-Options`` is left out (it cannot name them).
``X-Content-Type-Options: nosniff`` keeps browsers from reading an uploaded
image or a JSON answer as a script or a page, and ``Referrer-Policy:
same-origin`` keeps the app's URLs (which carry the view) from other sites.
"""

from __future__ import annotations

from flask import Flask, Response

from dashapp.config.settings import Settings

__all__ = ["install", "security_headers"]


def security_headers(settings: Settings) -> dict[str, str]:
    """The headers every response carries under ``settings``."""
    headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
    if settings.frame_ancestors:
        headers["Content-Security-Policy"] = "frame-ancestors " + " ".join(settings.frame_ancestors)
    else:
        headers["Content-Security-Policy"] = "frame-ancestors 'none'"
        headers["X-Frame-Options"] = "DENY"
    return headers


def install(server: Flask, settings: Settings) -> None:
    headers = security_headers(settings)

    @server.after_request
    def add_security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers[name] = value
        return response
