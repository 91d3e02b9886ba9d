"""Dash is set up before a worker serves: its first-request hook then does nothing."""

from __future__ import annotations

from collections.abc import Callable

from dash import Dash

from dashapp.web.startup import set_up_before_serving


def test_dash_is_set_up_once_before_the_first_request(make_app: Callable[..., Dash]) -> None:
    app = make_app()
    assert not app._got_first_request["setup_server"]
    set_up_before_serving(app)
    assert app._got_first_request["setup_server"] and app._got_first_request["pages"]
    callbacks = dict(app.callback_map)
    client = app.server.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/_dash-dependencies").status_code == 200
    assert app.callback_map == callbacks  # the hook did not run the set-up again
