"""Callback requests are read with bounds: their nesting and, unless they carry
an upload, their size.

Every page change arrives as a JSON POST to ``/_dash-update-component``.
Python's JSON reader gives up on a body nested 100,000 deep with a
``RecursionError``, which would be a 500: it is a 400 here. The server's
``MAX_CONTENT_LENGTH`` leaves room for a base64 upload (4/3 of the upload
limit), which only the callbacks reading a ``dcc.Upload``'s ``contents`` need;
any other callback request larger than ``CALLBACK_MAX_BYTES`` (far above what
a page sends: view state, a thumbnail, a table's rows) is a 413, before Dash
hands its values to a callback.
"""

from __future__ import annotations

import functools
from typing import Any

from dash import Dash
from flask import jsonify, request

from dashapp.i18n import _
from dashapp.intake import human_size

__all__ = ["CALLBACK_MAX_BYTES", "install"]

CALLBACK_MAX_BYTES = 4 * 1024 * 1024
UPLOAD_PROPERTY = "contents"  # dcc.Upload's file data


def _refused(message: str, status: int) -> Any:
    response = jsonify({"error": message})
    response.status_code = status
    return response


def install(app: Dash) -> None:
    server = app.server

    @functools.cache
    def upload_callbacks() -> frozenset[str]:
        """The output keys of the server callbacks that read an upload, straight
        from a ``dcc.Upload`` or from what a browser-side callback copied it into
        (known once every callback is registered)."""
        def reads(spec: dict[str, Any]) -> set[str]:
            return {f"{item['id']}.{item['property']}" for item in [*spec.get("inputs", []), *spec.get("state", [])]}

        carriers = {key for spec in app.callback_map.values() for key in reads(spec)
                    if key.endswith("." + UPLOAD_PROPERTY)}
        for key, spec in app.callback_map.items():
            if "callback" not in spec and reads(spec) & carriers:  # a browser-side callback passing it on
                carriers |= {part.split("@", 1)[0] for part in key.strip(".").split("...")}
        return frozenset(key for key, spec in app.callback_map.items() if reads(spec) & carriers)

    @server.before_request
    def bound_callback_body() -> Any:
        if request.method != "POST" or not request.path.endswith("/_dash-update-component"):
            return None
        try:
            body = request.get_json(cache=True)  # Dash reads this same parse
        except RecursionError:
            return _refused(_("The request is nested too deeply to be read."), 400)
        size = len(request.get_data(cache=True))
        if size > CALLBACK_MAX_BYTES:
            output = body.get("output") if isinstance(body, dict) else None
            if not isinstance(output, str) or output not in upload_callbacks():
                return _refused(_("The request is larger than the {limit} limit.").format(
                    limit=human_size(CALLBACK_MAX_BYTES)), 413)
        return None
