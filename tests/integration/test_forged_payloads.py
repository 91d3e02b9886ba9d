"""Forged callback payloads that used to answer 500 (issue 25): the evidence class
picker, the overview row click, the grid click and the weights banner given
values of the wrong shape, a 100,000-deep nested JSON body and a 13 MB callback
body. Each gets a clear 4xx (or, where nothing was asked, no change), never a 500."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from dash import Dash

from dashapp.service import Analyzer
from tests.support.forge import post_callback


@pytest.fixture(scope="module")
def app(make_analyzer: Callable[..., Analyzer], make_app: Callable[..., Dash]) -> Dash:
    return make_app(make_analyzer())


def key_of(app: Dash, output: str, trigger: str) -> str:
    """The callback writing ``output`` whose inputs include ``trigger`` (several write nav-request)."""
    return next(key for key, spec in app.callback_map.items()
                if key.startswith(output) and any(trigger in f"{i['id']}.{i['property']}" for i in spec["inputs"]))


def assert_not_500(answer: Any) -> None:
    """A clear refusal: a 400 that says what to do."""
    assert answer.status_code == 400, (answer.status_code, answer.get_data(as_text=True)[:300])
    assert "reload the page" in answer.get_data(as_text=True)


def evidence_body(app: Dash, index: Any, clicks: Any, picked: Any = None, ready: Any = None,
                  trigger: str | None = None) -> dict[str, Any]:
    key = key_of(app, "nav-request.data", "evidence-top-class")
    button = {"index": index, "type": "evidence-top-class"}
    return {
        "output": key, "outputs": {"id": "nav-request", "property": "data@" + key.split("@", 1)[1]},
        "inputs": [[{"id": button, "property": "n_clicks", "value": clicks}],
                   {"id": "evidence-class", "property": "value", "value": picked},
                   {"id": "evidence-method", "property": "value", "value": None},
                   {"id": "evidence-layer", "property": "value", "value": None}],
        "state": [{"id": "ready-state", "property": "data", "value": ready if ready is not None else {"cls": 1}}],
        "changedPropIds": [trigger or (json.dumps(button, separators=(",", ":"), sort_keys=True) + ".n_clicks")],
    }


@pytest.mark.parametrize(("index", "clicks", "picked", "ready", "trigger"), [
    pytest.param("abc", 1, None, None, None, id="button-index-text"),
    pytest.param({"x": 1}, 1, None, None, None, id="button-index-object"),
    pytest.param(1, 1, None, ["not", "a", "dict"], None, id="ready-a-list"),
    pytest.param(1, 0, "abc", None, "evidence-class.value", id="picked-text"),
    pytest.param(1, 0, [3], None, "evidence-class.value", id="picked-list"),
    pytest.param(1, 0, 1e300, None, "evidence-class.value", id="picked-huge-float"),
])
def test_forged_evidence_class_picks(app: Dash, index: Any, clicks: Any, picked: Any, ready: Any,
                                     trigger: str | None) -> None:
    body = evidence_body(app, index, clicks, picked, ready, trigger)
    assert_not_500(app.server.test_client().post("/_dash-update-component", json=body))


@pytest.mark.parametrize(("prop", "value"), [
    pytest.param("cellClicked", {"rowId": "x"}, id="row-id-text"),
    pytest.param("cellClicked", {"rowId": 3}, id="row-id-a-number"),
    pytest.param("cellClicked", {"rowId": "1.5"}, id="row-id-fraction"),
    pytest.param("cellClicked", {"rowId": "-1"}, id="row-id-negative"),
    pytest.param("cellClicked", {"rowId": "9" * 40}, id="row-id-huge"),
    pytest.param("cellClicked", {}, id="click-without-row"),
    pytest.param("cellClicked", ["rowId"], id="click-a-list"),
    pytest.param("eventData", {"data": {"index": "x"}}, id="enter-index-text"),
    pytest.param("eventData", {"data": {"index": 1.5}}, id="enter-index-fraction"),
    pytest.param("eventData", {"data": "not an object"}, id="enter-data-text"),
    pytest.param("eventData", "not an object", id="enter-a-string"),
])
def test_forged_overview_row_clicks(app: Dash, prop: str, value: Any) -> None:
    output = key_of(app, "nav-request.data", "overview-table.cellClicked")
    answer = post_callback(app, output, {f"overview-table.{prop}": value})
    assert_not_500(answer)


def test_a_real_overview_row_click_opens_its_filter(app: Dash) -> None:
    output = key_of(app, "nav-request.data", "overview-table.cellClicked")
    for prop, value in (("cellClicked", {"rowId": "12", "colId": "mean", "rowIndex": 0}),
                        ("eventData", {"data": {"index": 12}, "timestamp": 1})):
        answer = post_callback(app, output, {f"overview-table.{prop}": value})
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
        assert answer.get_json()["response"]["nav-request"]["data"] == {"page": "/detail", "filter": 12}


@pytest.mark.parametrize(("click", "filters"), [
    pytest.param("a string", [1], id="click-a-string"),
    pytest.param({"points": "x"}, [1], id="points-a-string"),
    pytest.param({"points": ["x"]}, [1], id="point-a-string"),
    pytest.param({"points": [{"curveNumber": 0}]}, ["x"], id="filter-text"),
    pytest.param({"points": [{"curveNumber": 0}]}, {"0": 1}, id="filters-an-object"),
])
def test_forged_grid_clicks(app: Dash, click: Any, filters: Any) -> None:
    output = key_of(app, "nav-request.data", '"grid"')
    answer = post_callback(app, output, {'{"index":"grid","type":"fig"}.clickData': click,
                                         "grid-filters.data": filters})
    assert_not_500(answer)


@pytest.mark.parametrize("ready", [{"lang": "en"}, {"model": ["resnet18"]}, ["model"], {"model": {"x": 1}}])
def test_forged_weights_banner(app: Dash, ready: Any) -> None:
    answer = post_callback(app, "weights-banner.children", {"model-state.data": ready})
    assert_not_500(answer)


def test_a_deeply_nested_callback_body_is_a_400(app: Dash) -> None:
    depth = 100_000
    body = '{"output":"weights-banner.children","inputs":' + "[" * depth + "]" * depth + "}"
    answer = app.server.test_client().post("/_dash-update-component", data=body, content_type="application/json")
    assert answer.status_code == 400, (answer.status_code, answer.get_data(as_text=True)[:300])
    assert "nested too deeply" in answer.get_json()["error"]


def test_a_13_mb_callback_body_is_a_4xx(app: Dash) -> None:
    body = {"output": "weights-banner.children", "outputs": {"id": "weights-banner", "property": "children"},
            "inputs": [{"id": "model-state", "property": "data", "value": {"model": "x" * (13 << 20)}}],
            "changedPropIds": ["model-state.data"], "state": []}
    answer = app.server.test_client().post("/_dash-update-component", json=body)
    assert answer.status_code == 413, (answer.status_code, answer.get_data(as_text=True)[:300])
    assert "4 MB" in answer.get_json()["error"]


@pytest.mark.parametrize(("trigger", "value"), [
    # The shell's upload: the browser checks it, then passes it on in upload-accepted.
    pytest.param("upload-accepted.data", {"contents": "data:image/png;base64,{}", "filename": "big.png"},
                 id="image-upload"),
    pytest.param("dataset-upload.contents", ["data:image/png;base64,{}"], id="collection-upload"),
])
def test_an_upload_callback_may_still_carry_a_large_file(app: Dash, trigger: str, value: Any) -> None:
    output = key_of(app, "", trigger)
    large = "A" * (5 << 20)  # over the bound of other callbacks, under the upload limit
    filled = json.loads(json.dumps(value).replace("{}", large))
    answer = post_callback(app, output, {trigger: filled})
    assert answer.status_code == 200, (answer.status_code, answer.get_data(as_text=True)[:300])
