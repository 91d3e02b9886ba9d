"""Dash callbacks called as plain functions, with a real callback context, and
checks that what they show a person is a clear message."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from contextvars import copy_context
from typing import Any

from dash import Dash
from dash._callback_context import context_value
from dash._utils import AttributeDict

# Words that only show up when internals leak into a user-facing message.
LEAK_MARKERS = ("Traceback", "Internal Server Error", 'File "', "Errno", "<class", "object at 0x", "site-packages")


# --------------------------------------------------------------------------- messages


def assert_clear_message(message: object, *, max_length: int = 1000) -> str:
    """A message meant for a person: text, non-empty, short, no internals."""
    assert isinstance(message, str), f"message is {type(message).__name__}: {message!r}"
    text = message.strip()
    assert text, "empty message"
    assert len(text) <= max_length, f"message is {len(text):,} characters long: {text[:200]!r}..."
    for marker in LEAK_MARKERS:
        assert marker not in text, f"message leaks {marker!r}: {text[:300]!r}"
    return text


def states_zero_limit(message: str) -> bool:
    """Whether a size message claims a limit of zero ("the 0 MB limit")."""
    return re.search(r"(?<![\d.,])0(?:\.0+)? ?(?:bytes|[KMG]i?B)\b", message) is not None


def alert_text(component: Any) -> str:
    """The visible text of a Dash component tree (an Alert, a list of them, a string)."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(alert_text(child) for child in component)
    return alert_text(getattr(component, "children", None))


# --------------------------------------------------------------------------- Dash callbacks as functions


def find_callback(app: Dash, output: str) -> Callable[..., Any]:
    """The undecorated function of the server callback whose outputs include ``output``."""
    for key, value in app.callback_map.items():
        if output in key and "callback" in value:
            return value["callback"].__wrapped__
    raise KeyError(output)


def callback_outputs(app: Dash, output: str) -> list[str]:
    """The "id.property" outputs, in order, of the server callback whose outputs include ``output``."""
    for key, value in app.callback_map.items():
        if output in key and "callback" in value:
            # Multi-output keys read "..a.b...c.d.."; a single output may carry an "@hash" suffix.
            return [part.split("@")[0] for part in key.strip(".").split("...")]
    raise KeyError(output)


STATE_CONTROLS = {"model": "resnet18", "layer": "layer2.0.conv1", "n": 6, "criterion": "balanced",
                  "min_sparsity": 0.15, "weight": 0.5, "opacity": 0.5, "colormap": "Jet"}


def sync_state(app: Dash, search: str, **changes: Any) -> dict[str, Any]:
    """The URL-state callback as on a page load with ``search`` in the address bar,
    its outputs keyed by "id.property" (so a reordering of outputs cannot mislead a test)."""
    func = find_callback(app, "view-state.data")
    out = run_callback(func, "url.search", search=search, controls=dict(STATE_CONTROLS), image_choice=None,
                       nav=None, current=None, **changes)
    flat = {"url-target.data": out["search"], "url.href": out["href"], "view-state.data": out["view"],
            "state-messages.children": out["messages"], "ctl-layer.options": out["layer_options"]}
    flat.update({f"ctl-{key.replace('_', '-')}.value": value for key, value in out["controls"].items()})
    return flat


def run_callback(func: Callable[..., Any], trigger: str | None, *args: Any, **kwargs: Any) -> Any:
    """Call a callback with a real callback context whose trigger is ``trigger`` ("id.prop")."""

    def call() -> Any:
        triggered = [{"prop_id": trigger, "value": None}] if trigger else []
        context_value.set(AttributeDict(triggered_inputs=triggered, inputs_list=[], states_list=[],
                                        outputs_list=[], input_values={}, state_values={}))
        return func(*args, **kwargs)

    return copy_context().run(call)


def data_url(data: bytes, mime: str = "image/png") -> str:
    """What the browser's upload component hands to the server: a base64 data URL."""
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")

