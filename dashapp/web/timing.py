"""Server-Timing headers in debug mode (``DASHAPP_DEBUG=true``).

Each response then says how long the server spent on it
(``Server-Timing: app;dur=12.3``), which the browser's resource timing
(``performance.getEntriesByType("resource")[i].serverTiming``) and DevTools
show beside the network time: the way to tell a slow callback from a slow
browser when a control change feels slow.
"""

from __future__ import annotations

import time

from flask import Flask, Response, g

__all__ = ["install"]


def install(server: Flask, enabled: bool) -> None:
    if not enabled:
        return

    @server.before_request
    def start_clock() -> None:
        g.dashapp_started = time.perf_counter()

    @server.after_request
    def stamp(response: Response) -> Response:
        started = g.get("dashapp_started")
        if started is not None:
            response.headers.add("Server-Timing", f"app;dur={(time.perf_counter() - started) * 1000:.1f}")
        return response
