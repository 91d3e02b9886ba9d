"""Dash callbacks called as functions, with a real callback context."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from dash import Dash, no_update

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
    assert view["layer"] == "layer2.0.conv1" and controls["layer"] == "layer2.0.conv1" and controls["n"] == 6
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
    assert out["controls"]["n"] is no_update and out["layer_options"] is no_update
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


def title_ids(count: int) -> list[dict[str, str]]:
    """The heatmaps page's slot title ids, as the browser sends them when ``count`` slots are shown."""
    return [{"type": "fig-title", "index": f"heat-{rank}"} for rank in range(1, count + 1)]


def test_pages_render_from_ready_state_and_report_errors(app: Dash) -> None:
    view = sync(app, None, "")["view"]
    heat = callback(app, "heat-grid.className")
    out = heat(view, None, [])
    error, cells, grid_class, bases, options, value = (out[key] for key in ("error", "cells", "grid_class", "bases",
                                                                            "options", "picked"))
    assert error is None and len(options) == 6 and value == options[0]["value"]
    # The first answer puts six empty slots in the first six cells; the
    # figures and titles, in rank order, are spread over them in the browser
    # (the enlarged one too).
    # Each cell: the slot, and the hidden button Enter on the card presses (to open its filter).
    assert [c[0].children[1].id["index"] for c in cells[:6]] == [f"heat-{rank}" for rank in range(1, 7)]
    assert [c[1].id for c in cells[:6]] == [{"type": "heat-open", "index": f"heat-{rank}"} for rank in range(1, 7)]
    assert all(c is no_update for c in cells[6:]) and "heat-wide" not in grid_class
    assert [f.layout.meta["filter"] for f in bases["figures"]] == [int(o["value"]) for o in options]
    assert bases["titles"][0].startswith(f"#1 · filter {options[0]['value']} ·")
    broken = {**view, "image": "f" * 64}
    out = heat(broken, None)
    error = out.pop("error")
    assert "upload" in str(error) and all(r is no_update for r in out.values())
    for forged in ({**view, "n": 128}, {**view, "layer": "nope"}, {**view, "criterion": "x"},
                   {**view, "weight": float("nan")}, {**view, "filter": 10**6}):
        out = heat(forged, None)
        error = out.pop("error")
        assert error is not None and all(r is no_update for r in out.values()), forged


def test_heatmap_slots_stay_and_only_the_difference_is_added_or_removed(app: Dash) -> None:
    view = sync(app, None, "")["view"]
    heat = callback(app, "heat-grid.className")
    # Another criterion, the same count: the slots stay, their figures change.
    out = heat({**view, "criterion": "max"}, None, title_ids(6))
    cells, bases = out["cells"], out["bases"]
    assert all(c is no_update for c in cells) and len(bases["figures"]) == 6
    # One more map: a slot in the seventh cell only; four maps a row from seven on.
    out = heat({**view, "n": 7}, None, title_ids(6))
    cells, grid_class, bases = out["cells"], out["grid_class"], out["bases"]
    assert [i for i, c in enumerate(cells) if c is not no_update] == [6] and "heat-wide" in grid_class
    assert cells[6][0].children[1].id == {"type": "fig-base", "index": "heat-7"} and len(bases["figures"]) == 7
    # Back to five: the sixth and seventh cells emptied.
    out = heat({**view, "n": 5}, None, title_ids(7))
    cells, grid_class = out["cells"], out["grid_class"]
    assert {i: c for i, c in enumerate(cells) if c is not no_update} == {5: [], 6: []}
    assert "heat-wide" not in grid_class


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
