"""The layout served to a page holds its address's state and the page itself
(ui/layout/served.py), so the first visit needs no URL callback and no router
round trip; a request that is not a page's gets the plain shell."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from dash import Dash

from dashapp.state.schema import SCHEMA
from tests.support.dash_harness import find_callback, run_callback

PAGE = "/heatmaps?layer=layer2.0.conv1&n=7&colormap=Jet"


@pytest.fixture(scope="module")
def app(make_app: Callable[..., Dash]) -> Dash:
    return make_app()


def served(app: Dash, **headers: str) -> dict[str, dict[str, Any]]:
    """The layout's components by id (string ids), as JSON props."""
    answer = app.server.test_client().get("/_dash-layout", headers=headers)
    assert answer.status_code == 200
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict) and "props" in node and "type" in node:
            if isinstance(node["props"].get("id"), str):
                found[node["props"]["id"]] = node["props"]
            walk(list(node["props"].values()))
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(answer.get_json())
    return found


def texts(node: Any) -> str:
    return json.dumps(node, ensure_ascii=False)


def test_a_page_gets_the_url_callbacks_answer_and_its_page_in_the_layout(app: Dash) -> None:
    layout = served(app, Referer=f"http://localhost{PAGE}")
    search = "?" + PAGE.split("?", 1)[1]
    # What the URL callback would answer to that address, and nothing else.
    sync = find_callback(app, "url-target.data")
    controls = {key: layout[control].get("value") for key, control in SCHEMA.controls.items()}
    expected = run_callback(sync, None, search=search, controls=controls, image_choice=None, nav=None,
                            current=None)
    assert layout["url-target"]["data"] == expected["search"]
    assert layout["view-state"]["data"] == expected["view"]
    assert layout["ready-state"]["data"] == expected["ready"]
    assert layout["view-state"]["data"]["layer"] == "layer2.0.conv1"
    assert layout["ready-state"]["data"]["n"] == 7
    # Every control shows the state: the ranking's, the display's (from the address too), the rest.
    assert layout["ctl-n"]["value"] == 7 and layout["ctl-colormap"]["value"] == "Jet"
    assert layout["ctl-layer"]["value"] == "layer2.0.conv1"
    assert layout["ctl-layer"]["options"] == expected["layer_options"]
    assert layout["load-poll"]["disabled"] is True  # the model answers: no progress to poll
    # The stores the banner, the image and the layer's words listen to start with the state.
    assert layout["model-state"]["data"] == layout["ready-state"]["data"]
    assert layout["image-state"]["data"] == layout["layer-state"]["data"] == layout["view-state"]["data"]
    # Both Locations already say the address (they report no change on mount), and the page is in.
    assert (layout["url"]["pathname"], layout["url"]["search"]) == ("/heatmaps", search)
    assert (layout["_pages_location"]["pathname"], layout["_pages_location"]["search"]) == ("/heatmaps", search)
    assert "heat-grid" in layout and "heat-bases" in layout
    assert "Heatmaps" in layout["_pages_store"]["data"]["title"]
    assert layout["served-address"]["data"] == PAGE


def test_a_bad_address_is_served_with_its_message(app: Dash) -> None:
    layout = served(app, Referer="http://localhost/grid?layer=nope")
    # An unknown layer: the default layer, and the message saying so, are served with the grid page.
    assert layout["view-state"]["data"]["layer"] != "nope"
    assert "nope" in texts(layout["state-messages"]["children"])
    assert layout["_pages_location"]["pathname"] == "/grid"
    assert "grid" in layout["_pages_store"]["data"]["title"]


@pytest.mark.parametrize("headers", [
    {},  # no Referer (a browser that sends none)
    {"Referer": "http://elsewhere.example/heatmaps?layer=layer2.0.conv1"},  # not this site
    {"Referer": "http://localhost/no-such-page?layer=layer2.0.conv1"},  # not one of its pages
])
def test_anything_else_gets_the_plain_shell(app: Dash, headers: dict[str, str]) -> None:
    layout = served(app, **headers)
    for store in ("view-state", "ready-state", "url-target", "served-address", "model-state"):
        assert layout[store].get("data") is None, store
    assert "pathname" not in layout["url"] and "pathname" not in layout["_pages_location"]
    assert "children" not in layout["_pages_content"] or not layout["_pages_content"]["children"]


def test_each_request_gets_its_own_page_container(app: Dash) -> None:
    import dash

    served(app, Referer=f"http://localhost{PAGE}")
    # dash.page_container is one object for every request: the page went into a copy.
    content = next(c for c in dash.page_container.children if getattr(c, "id", None) == "_pages_content")
    assert not getattr(content, "children", None)
    assert served(app)["_pages_content"].get("children") in (None, [])
