"""Callback requests forged by a client, sent as real POSTs to
``/_dash-update-component`` (issue 11, findings 3 and 4).

Every page reads ``ready-state`` through the strict parser: a forged ``n`` of
128, an unknown model, layer, criterion or method, a class out of range or a
NaN number gets a clear message and no work (not one forward pass). The
region click of the detail page is looked up by number in the server's own
regions: a forged box of 13000 px crops nothing larger than the image.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from dash import Dash
from PIL import Image

from dashapp.analysis.maps.patches import crop_box
from dashapp.service import Analyzer
from devtools.servers import random_png
from tests.support import dash_harness as h
from tests.support.forge import post_callback, response_of

FORGED = [
    pytest.param({"n": 128}, "n", id="n-128"),
    pytest.param({"n": 10**9}, "n", id="n-huge"),
    pytest.param({"n": 0}, "n", id="n-zero"),
    pytest.param({"model": "vit_h_14"}, "vit_h_14", id="model-not-enabled"),
    pytest.param({"layer": "features.0"}, "features.0", id="layer-of-another-model"),
    pytest.param({"criterion": "__class__"}, "criterion", id="unknown-criterion"),
    pytest.param({"cam": "lucent"}, "method", id="unknown-method"),
    pytest.param({"cls": 1000}, "cls", id="class-out-of-range"),
    pytest.param({"cls": -1}, "cls", id="class-negative"),
    pytest.param({"filter": 128}, "filter", id="filter-out-of-range"),
    pytest.param({"weight": float("nan")}, "weight", id="weight-nan"),
    pytest.param({"min_sparsity": float("inf")}, "min_sparsity", id="sparsity-inf"),
    pytest.param({"min_sparsity": "NaN"}, "min_sparsity", id="sparsity-nan-text"),
    pytest.param({"n": [6]}, "n", id="n-list"),
    pytest.param({"image": "../../etc/passwd"}, "image", id="image-path"),
]


@pytest.fixture(scope="module")
def site(make_analyzer: Callable[..., Analyzer], make_app: Callable[..., Dash]) -> tuple[Dash, Analyzer]:
    analyzer = make_analyzer()
    return make_app(analyzer), analyzer


def page_callbacks(app: Dash) -> list[str]:
    """The first output ("id.prop") of every page callback fed by ready-state, with an error slot."""
    found = []
    for key, spec in app.callback_map.items():
        inputs = {f"{i['id']}.{i['property']}" for i in spec["inputs"]}
        first = key.strip(".").split("...")[0]
        if "callback" in spec and "ready-state.data" in inputs and first.endswith("-error.children"):
            found.append(first)
    return found


def alert_of(answer: Any, output: str) -> str:
    component = output.split(".")[0]
    value = response_of(answer).get(component, {}).get("children")
    assert isinstance(value, dict), f"{output}: no message component in {json.dumps(response_of(answer))[:300]}"
    return h.alert_text(value.get("props", {}).get("children"))


@pytest.mark.parametrize(("change", "word"), FORGED)
def test_forged_ready_state_gets_a_message_and_no_work(site: tuple[Dash, Analyzer], change: dict[str, Any],
                                                       word: str) -> None:
    app, analyzer = site
    sha = analyzer.library.ingest_bytes(random_png(4242)).sha256  # never analysed: any work would show
    view = {**h.sync_state(app, "")["view-state.data"], "image": sha, **change}
    outputs = page_callbacks(app)
    assert len(outputs) >= 8, outputs  # overview, heatmaps, grid, detail, kernels, prediction, evidence, profile
    before = analyzer.activations.stats["computes"]
    for output in outputs:
        answer = post_callback(app, output, {"ready-state.data": view})
        assert answer.status_code == 200, (output, answer.status_code, answer.get_data(as_text=True)[:300])
        message = h.assert_clear_message(alert_of(answer, output))
        assert word in message, (output, message)
    assert analyzer.activations.stats["computes"] == before


@pytest.mark.parametrize(("change", "_word"), FORGED)
def test_forged_view_state_never_breaks_the_address_callback(site: tuple[Dash, Analyzer], change: dict[str, Any],
                                                             _word: str) -> None:
    app, _ = site
    view = {**h.sync_state(app, "")["view-state.data"], **change}
    answer = post_callback(app, "url-target.data", {"view-state.data": view, "ctl-n.value": 7})
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    # The forged state is dropped: the view is read again from the address, which is valid.
    view_out = response_of(answer).get("view-state", {}).get("data")
    if view_out is not None:
        assert view_out["model"] in ("resnet18", "alexnet") and 1 <= view_out["n"] <= 24


def decoded_crop(answer: Any) -> Image.Image:
    card = json.dumps(response_of(answer))
    start = card.index("data:image/")
    uri = card[start:card.index('"', start)]
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


@pytest.mark.parametrize("points", [
    pytest.param([{"curveNumber": 0, "x": 13000, "y": 13000, "x0": 0, "y0": 0, "x1": 13000, "y1": 13000}],
                 id="huge-box-on-region-1"),
    pytest.param([{"curveNumber": 0, "customdata": [0, 0, 13000, 13000], "bbox": {"x0": 0, "x1": 13000}}],
                 id="huge-customdata"),
])
def test_forged_region_box_crops_only_the_servers_region(site: tuple[Dash, Analyzer], points: list[Any]) -> None:
    app, analyzer = site
    view = h.sync_state(app, "")["view-state.data"]
    opened = analyzer.open(_state(view))
    index = opened.ranking.filters[0].index
    regions = opened.regions(index).regions
    assert regions, "the example's top filter has no region: pick another fixture"
    forged_store = {"filter": index, "count": 1, "x0": 0, "y0": 0, "x1": 13000, "y1": 13000}
    answer = post_callback(app, "detail-region-info.children@", {
        "detail-regions.clickData": {"points": points}, "detail-regions-data.data": forged_store,
        "ready-state.data": view})
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    crop = decoded_crop(answer)
    region = regions[0]
    image = opened.image
    assert crop.width <= image.width and crop.height <= image.height
    # The crop is the server's box (grown to its peak cell's receptive field,
    # scaled to at most 220 px), whatever the client said.
    x0, y0, x1, y1 = crop_box(opened.maps[index], opened.geometry, (region.x0, region.y0, region.x1, region.y1),
                              image.width, image.height)
    box_w, box_h = x1 - x0, y1 - y0
    assert abs(crop.width / crop.height - box_w / box_h) < 0.1 * max(1.0, box_w / box_h)
    assert f"x {region.x0}–{region.x1}" in json.dumps(response_of(answer), ensure_ascii=False)


@pytest.mark.parametrize("curve", [10**12, -1, "0", True, 1.5, None])
def test_forged_region_numbers_change_nothing(site: tuple[Dash, Analyzer], curve: Any) -> None:
    app, analyzer = site
    view = h.sync_state(app, "")["view-state.data"]
    index = analyzer.open(_state(view)).ranking.filters[0].index
    answer = post_callback(app, "detail-region-info.children@", {
        "detail-regions.clickData": {"points": [{"curveNumber": curve}]},
        "detail-regions-data.data": {"filter": index}, "ready-state.data": view})
    assert answer.status_code in (200, 204), answer.get_data(as_text=True)[:300]
    assert "data:image/" not in answer.get_data(as_text=True)


def _state(view: dict[str, Any]) -> Any:
    from dashapp.state.schema import ViewState

    return ViewState.from_dict(view)


def test_api_analysis_n_above_the_layers_filters_is_refused(site: tuple[Dash, Analyzer]) -> None:
    app, analyzer = site
    client = app.server.test_client()
    sha = analyzer.library.default_image()
    base = f"/api/analysis?image={sha}&model=alexnet&layer=features.0"  # 64 filters
    assert client.get(f"{base}&n=64").status_code == 200
    for n in ("65", "1000000", "nan", "-1", "1e3"):
        answer = client.get(f"{base}&n={n}")
        assert answer.status_code == 400, (n, answer.status_code)
        assert "n" in h.assert_clear_message(answer.get_json()["error"])
