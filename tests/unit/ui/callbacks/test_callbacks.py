"""Dash callbacks called as functions, with a real callback context."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from dash import Dash, no_update

from dashapp.state.schema import RANKING_KEYS
from tests.support.dash_harness import find_callback, run_callback


@pytest.fixture(scope="module")
def app(make_app: Callable[..., Dash]) -> Dash:
    return make_app()


def callback(app: Dash, output: str) -> Callable[..., Any]:
    return find_callback(app, output)


CONTROLS = {"model": "resnet18", "layer": "layer2.0.conv1", "n": 6, "criterion": "balanced", "min_sparsity": 0.15,
            "weight": 0.5, "opacity": 0.5, "colormap": "Jet"}


def sync(app: Dash, trigger: str | None, search: str, controls: dict[str, Any] | None = None,
         image_choice: Any = None, nav: Any = None, current: Any = None) -> dict[str, Any]:
    func = callback(app, "url-target.data")
    return run_callback(func, trigger, search=search, controls=controls or dict(CONTROLS),
                        image_choice=image_choice, nav=nav, current=current)


def test_url_with_unknown_layer_gives_message_and_default(app: Dash) -> None:
    out = sync(app, "url.search", "?model=resnet18&layer=nope.conv&n=NaN")
    view, controls = out["view"], out["controls"]
    assert view["layer"] == "layer2.0.conv1" and controls["layer"] == "layer2.0.conv1" and view["n"] == 6
    # The ranking's controls show the state in the browser (url_sync.SHOWN_HERE), not from this answer.
    assert not set(RANKING_KEYS) & set(controls)
    text = str(out["messages"])
    assert "nope.conv" in text and "NaN" in text
    assert "layer=layer2.0.conv1" in out["search"] and view["image"]  # an example image stands in
    assert any(o["value"] == "conv1" for o in out["layer_options"])


def test_control_change_rewrites_the_url_in_place(app: Dash) -> None:
    first = sync(app, None, "")
    view = first["view"]
    out = sync(app, "ctl-n.value", first["search"], {**CONTROLS, "n": 12}, current=view)
    assert "n=12" in out["search"] and out["href"] is no_update
    assert out["view"]["n"] == 12
    # The pages' ready state comes in the same answer, and only the control
    # that changed is set again.
    # The ready state also says the language the pages speak (negotiated:
    # the link names none, and the view keeps it unset).
    assert out["ready"] == {**out["view"], "lang": "en"} and out["view"]["lang"] is None
    assert out["poll_off"] is True
    assert out["layer_options"] is no_update
    assert all(value is no_update for value in out["controls"].values())
    # Opacity and colormap are the browser's (no server call); the next
    # analysis change writes them into the URL as the controls show them.
    controls = {**CONTROLS, "n": 7, "opacity": 0.9, "colormap": "Viridis"}
    out2 = sync(app, "ctl-n.value", out["search"], controls, current=out["view"])
    assert "opacity=0.9" in out2["search"] and "colormap=Viridis" in out2["search"] and out2["view"]["n"] == 7


def test_a_forged_control_value_falls_back_with_a_message(app: Dash) -> None:
    view = sync(app, None, "")["view"]
    out = sync(app, "ctl-n.value", "", {**CONTROLS, "n": 128}, current=view)
    assert out["view"]["n"] == 24 and "128" in str(out["messages"])
    out = sync(app, "ctl-model.value", "", {**CONTROLS, "model": "vit_h_14"}, current=view)
    # Nothing changes but the message; the control shows the model in use again.
    assert out["view"] is no_update and out["controls"]["model"] == "resnet18" and "vit_h_14" in str(out["messages"])


def test_model_change_picks_a_layer_of_that_model(app: Dash) -> None:
    view = sync(app, None, "")["view"]
    out = sync(app, "ctl-model.value", "", {**CONTROLS, "model": "alexnet"}, current=view)
    assert out["view"]["model"] == "alexnet" and out["view"]["layer"] == "features.3"


def test_unknown_image_and_out_of_range_filter(app: Dash) -> None:
    out = sync(app, "url.search", f"?image={'0' * 64}&layer=conv1&filter=500")
    text = str(out["messages"])
    assert "not stored" in text and "filter='500'" in text
    assert out["view"]["filter"] is None and out["view"]["image"] != "0" * 64


def test_navigation_request_moves_to_the_detail_page(app: Dash) -> None:
    view = sync(app, None, "")["view"]
    out = sync(app, "nav-request.data", "", nav={"page": "/detail", "filter": 3}, current=view)
    assert out["search"] is no_update and out["href"].startswith("/detail?") and "filter=3" in out["href"]


def test_choose_image_reports_bad_uploads(app: Dash) -> None:
    func = callback(app, "image-choice.data")
    garbage = "data:image/png;base64," + base64.b64encode(b"definitely not a png").decode()
    upload = {"contents": garbage, "filename": "x.png"}
    out = run_callback(func, "upload-accepted.data", upload, 0, 0, None, None)
    assert out["choice"] is no_update and "image" in str(out["message"]).lower()
    out = run_callback(func, "ctl-url-go.n_clicks", None, 1, 0, None, "file:///etc/passwd")
    assert out["choice"] is no_update and "http" in str(out["message"]).lower()
    out = run_callback(func, "ctl-example.value", None, 0, 0, "coffee.png", None)
    assert len(out["choice"]["sha"]) == 64 and out["message"] is None


def test_heatmaps_send_the_layer_once_and_report_errors(app: Dash) -> None:
    view = sync(app, None, "")["view"]
    heat = callback(app, "heat-layer.data")
    out = heat(view, None)
    bundle = out["bundle"]
    key = bundle["key"]
    assert out["error"] is None and view["layer"] in key and view["image"] in key
    # The whole layer: every filter's statistics and map (the browser ranks and draws them: assets/js/ranking.js).
    assert bundle["count"] == len(bundle["maps"]) == len(bundle["scales"]) == len(bundle["descriptions"]) > 6
    assert set(bundle["stats"]) == {"mean", "max", "std", "sparsity"}
    # A ranking change on the layer shown (the browser holds it, last): only the notice is answered.
    out = heat({**view, "criterion": "max", "n": 7}, [key])
    assert out["bundle"] is no_update and out["error"] is None
    strict = heat({**view, "min_sparsity": 0.8, "n": 24}, [key])
    assert strict["bundle"] is no_update and "eligible" in str(strict["notice"])
    # Another layer: sent whole; back to the first, which the browser still holds: its key alone.
    other = heat({**view, "layer": "layer1.0.conv1"}, [key])["bundle"]
    assert other["key"] != key and len(other["maps"]) == other["count"]
    assert heat(view, [key, other["key"]])["bundle"] == {"key": key}
    # Keys a client made up are keys like any other: what is not held is sent.
    assert heat(view, ["x" * 64])["bundle"]["key"] == key
    broken = {**view, "image": "f" * 64}
    out = heat(broken, None)
    error = out.pop("error")
    assert "upload" in str(error) and all(r is no_update for r in out.values())
    for forged in ({**view, "n": 128}, {**view, "layer": "nope"}, {**view, "criterion": "x"},
                   {**view, "weight": float("nan")}, {**view, "filter": 10**6}):
        out = heat(forged, None)
        error = out.pop("error")
        assert error is not None and all(r is no_update for r in out.values()), forged


def test_grid_click_opens_the_clicked_filter(app: Dash) -> None:
    open_filter = next(
        value["callback"].__wrapped__
        for value in app.callback_map.values()
        if any('"grid"' in str(i["id"]) and i["property"] == "clickData" for i in value["inputs"])
    )
    assert open_filter({"points": [{"curveNumber": 2}]}, [11, 22, 33]) == {"page": "/detail", "filter": 33}
    assert open_filter({"points": [{"curveNumber": 9}]}, [11, 22, 33]) is no_update
    assert open_filter(None, [11]) is no_update


def test_table_row_click_opens_that_filter_as_sorted(app: Dash) -> None:
    open_row = next(
        value["callback"].__wrapped__
        for value in app.callback_map.values()
        if any(i["id"] == "overview-table" and i["property"] == "cellClicked" for i in value["inputs"])
    )
    # The grid's row id is the filter, wherever sorting put the row on screen.
    click = {"rowId": "7", "rowIndex": 1, "colId": "mean", "value": 0.2}
    assert run_callback(open_row, "overview-table.cellClicked", click, None) == {"page": "/detail", "filter": 7}
    enter = {"data": {"index": 40}, "timestamp": 1}
    assert run_callback(open_row, "overview-table.eventData", None, enter) == {"page": "/detail", "filter": 40}
    assert run_callback(open_row, "overview-table.cellClicked", None, None) is no_update  # drawn, not clicked
