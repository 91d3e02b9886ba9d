"""Forged Dash callback requests: what a client can send to
``/_dash-update-component`` without the app's pages, for the tests that the
server trusts nothing in them."""

from __future__ import annotations

import json
import time
from typing import Any

from dash import Dash


def post_callback(app: Dash, output: str, inputs: dict[str, Any]) -> Any:
    """POST /_dash-update-component as a browser would, for the server callback
    writing ``output``, with ``inputs`` ("id.prop" -> value) and None elsewhere;
    a background callback is polled until its job has answered."""
    key = next(k for k in app.callback_map if output in k and "callback" in app.callback_map[k])
    spec = app.callback_map[key]

    def values(items: list[dict[str, str]]) -> list[dict[str, Any]]:
        return [{"id": item["id"], "property": item["property"],
                 "value": inputs.get(f"{item['id']}.{item['property']}")} for item in items]

    def component(part: str) -> dict[str, Any]:
        name, prop = part.rsplit(".", 1) if not part.startswith("{") else part.rsplit("}.", 1)
        ident: Any = json.loads(name + "}") if part.startswith("{") else name
        return {"id": ident, "property": prop}

    outputs = [component(part) for part in key.strip(".").split("...")]
    body = {"output": key, "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": values(spec["inputs"]), "state": values(spec["state"]), "changedPropIds": list(inputs)}
    client = app.server.test_client()
    answer = client.post("/_dash-update-component", json=body)
    handles = answer.get_json(silent=True) if answer.status_code == 200 else None
    if not (isinstance(handles, dict) and "cacheKey" in handles):
        return answer
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # a bound on a hang, not a timed assertion
        answer = client.post(f"/_dash-update-component?cacheKey={handles['cacheKey']}&job={handles['job']}",
                             json=body)
        if "response" in (answer.get_json(silent=True) or {}):
            return answer
        time.sleep(0.1)
    raise AssertionError("the background job never answered")


def response_of(answer: Any) -> dict[str, dict[str, Any]]:
    """The "response" part of a callback answer: {component id: {property: value}}."""
    body = answer.get_json(silent=True) or {}
    return body.get("response") or {}
