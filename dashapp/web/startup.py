"""Dash's own set-up, done before a gunicorn worker serves anything.

Dash sets itself up on its first request (``Dash._setup_server``, a
``before_request`` hook) behind a flag it checks and sets without a lock.
Under gunicorn's threads two first requests at once (a page and
``/healthz`` while a worker boots) both ran it: one thread copied the
callbacks into ``callback_map`` while the other iterated it ("dictionary
changed size during iteration", a 500 and a traceback in the log, seen in the
whole suite under load). The pages router's hook, which adds its callbacks on
the first request behind the same kind of flag, was the other writer. Both
run once here, in their order; on the first request they find their flags set.
"""

from __future__ import annotations

from dash import Dash

DASH_FIRST_REQUEST_HOOKS = ("_setup_server", "router_sync")


def set_up_before_serving(app: Dash) -> None:
    hooks = [hook for hook in app.server.before_request_funcs.get(None, [])
             if getattr(hook, "__name__", "") in DASH_FIRST_REQUEST_HOOKS]
    with app.server.test_request_context("/"):
        for hook in hooks:
            hook()
