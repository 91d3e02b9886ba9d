"""The map export, class evidence and sanity-check routes, through Flask's
test client (the same app gunicorn serves): answers checked against the
receptive fields, bad input answered with a 4xx."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient

from dashapp.analysis.models.registry import ModelRegistry
from dashapp.service import Analyzer
from dashapp.state.schema import ViewState


@pytest.fixture(scope="module")
def module_analyzer(make_analyzer: Callable[..., Analyzer]) -> Analyzer:
    return make_analyzer()


@pytest.fixture(scope="module")
def client(module_analyzer: Analyzer, make_app: Callable[..., Any]) -> Iterator[FlaskClient]:
    yield make_app(module_analyzer).server.test_client()


@pytest.fixture(scope="module")
def sha(client: FlaskClient, example_bytes: bytes) -> str:
    answer = client.post("/api/images", data={"file": (io.BytesIO(example_bytes), "cat.png")},
                         content_type="multipart/form-data")
    assert answer.status_code == 201
    return answer.get_json()["sha256"]


def expected_geometry(registry: ModelRegistry, model: str, rf: Any, width: int = 451, height: int = 300) -> dict:
    size = registry.get(model).input_size
    return {"x0": rf.start_x * width / size, "dx": rf.jump_x * width / size,
            "y0": rf.start_y * height / size, "dy": rf.jump_y * height / size,
            "rf_width": rf.size_x * width / size, "rf_height": rf.size_y * height / size}


@pytest.mark.parametrize(("model", "layer", "index"), [("resnet18", "layer4.1.conv2", 5), ("alexnet", "features.10", 0),
                                                       ("resnet18", "conv1", 3)])
def test_map_export_answers_the_map_and_its_geometry(client: FlaskClient, sha: str, registry: ModelRegistry,
                                                     module_analyzer: Analyzer, model: str, layer: str,
                                                     index: int) -> None:
    answer = client.get(f"/api/export/map.json?image={sha}&model={model}&layer={layer}&filter={index}")
    assert answer.status_code == 200
    body = answer.get_json()
    info = registry.get(model).layers[layer]
    assert body["shape"] == list(info.map_size) and (body["width"], body["height"]) == (451, 300)
    assert body["geometry"] == pytest.approx(expected_geometry(registry, model, info.receptive_field))
    view = module_analyzer.open(ViewState(image=sha, model=model, layer=layer))
    np.testing.assert_array_equal(np.asarray(body["map"], dtype=np.float32), view.maps[index])
    if layer == "layer4.1.conv2":  # the reviewed case: cells at 32j + 0.5 input pixels, fields 435 px
        assert body["geometry"]["x0"] == pytest.approx(0.5 * 451 / 224)
        assert body["geometry"]["dx"] == pytest.approx(32 * 451 / 224)
        assert body["geometry"]["rf_height"] == pytest.approx(435 * 300 / 224)


def test_map_export_refuses_bad_input(client: FlaskClient, sha: str) -> None:
    base = f"/api/export/map.json?image={sha}&model=resnet18&layer=layer4.1.conv2"
    cases = {"": 400, "&filter=abc": 400, "&filter=-1": 400, "&filter=512": 404}
    for suffix, status in cases.items():
        answer = client.get(base + suffix)
        assert answer.status_code == status, suffix
        assert answer.get_json()["error"]
    assert client.get(f"/api/export/map.json?image={sha}&model=resnet18&layer=nope&filter=0").status_code == 404
    assert client.get("/api/export/map.json?model=resnet18&layer=conv1&filter=0").status_code == 400
    assert client.get("/api/export/map.json?image=xyz&model=resnet18&layer=conv1&filter=0").status_code == 400
    assert client.get(f"/api/export/map.json?image={'0' * 64}&model=resnet18&layer=conv1&filter=0").status_code == 404
    assert client.get(f"/api/export/map.json?image={sha}&model=vgg&layer=conv1&filter=0").status_code == 404


EVIDENCE_CASES = [("resnet18", "layer4", "block"), ("resnet18", "layer3.1", "block"),
                  ("resnet18", "layer4.1.conv2", "conv"), ("alexnet", "features.10", "conv")]


@pytest.mark.parametrize(("model", "layer", "kind"), EVIDENCE_CASES)
def test_evidence_answers_map_scale_and_geometry(client: FlaskClient, sha: str, registry: ModelRegistry, model: str,
                                                 layer: str, kind: str) -> None:
    answer = client.get(f"/api/evidence?image={sha}&model={model}&layer={layer}&class=281&method=gradcam%2B%2B")
    assert answer.status_code == 200
    body = answer.get_json()
    target = registry.get(model).evidence_layer(layer)
    assert (body["layer"], body["kind"], body["class"], body["method"]) == (layer, kind, 281, "gradcam++")
    fmap = np.asarray(body["map"])
    assert fmap.shape == target.map_size and np.isfinite(fmap).all()
    assert fmap.max() == pytest.approx(1.0, abs=1e-3) and fmap.min() >= 0 and body["scale"] > 0
    assert body["geometry"] == pytest.approx(expected_geometry(registry, model, target.receptive_field))
    again = client.get(f"/api/evidence?image={sha}&model={model}&layer={layer}&class=281&method=gradcam%2B%2B")
    assert again.get_json() == body  # the stored map and scale


def test_evidence_and_sanity_refuse_bad_input(client: FlaskClient, sha: str) -> None:
    for route in ("/api/evidence", "/api/sanity"):
        base = f"{route}?image={sha}&model=resnet18"
        cases = {"&layer=layer4": 400, "&class=281": 400, "&layer=layer4&class=1000": 400,
                 "&layer=layer4&class=abc": 400, "&layer=layer4&class=1&method=lime": 400,
                 "&layer=layer9&class=1": 404, "&layer=layer4.1.relu&class=1": 404}
        for suffix, status in cases.items():
            answer = client.get(base + suffix)
            assert answer.status_code == status, (route, suffix)
            assert answer.get_json()["error"]
        assert client.get(f"{route}?model=resnet18&layer=layer4&class=1").status_code == 400
        assert client.get(f"{route}?image={sha}&model=vgg&layer=layer4&class=1").status_code == 404
        assert client.get(f"{route}?image={'0' * 64}&model=resnet18&layer=layer4&class=1").status_code == 404


def test_sanity_is_computed_once_and_stored(client: FlaskClient, sha: str, module_analyzer: Analyzer) -> None:
    url = f"/api/sanity?image={sha}&model=alexnet&layer=features.10&class=281"
    view = module_analyzer.open(ViewState(image=sha, model="alexnet", layer="features.10"))
    assert view.sanity(281, layer="features.10", compute=False) is None
    answer = client.get(url)
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["verdict"] in ("passed", "failed", "undecided") and body["sentence"]
    assert [s["randomized"] for s in body["steps"]][:2] == ["classifier.6", "classifier.4"]
    assert all(s["spearman"] is None or 0 <= s["spearman"] <= 1 for s in body["steps"])
    stored = view.sanity(281, layer="features.10", compute=False)
    assert stored is not None and stored["steps"] == body["steps"]
    assert client.get(url).get_json() == body


def test_models_list_evidence_layers_with_their_kind(client: FlaskClient) -> None:
    models = {m["name"]: m for m in client.get("/api/models").get_json()["models"]}
    resnet = {e["name"]: e for e in models["resnet18"]["evidence_layers"]}
    assert models["resnet18"]["default_evidence_layer"] == "layer4"
    assert resnet["layer4"]["kind"] == resnet["layer4.1"]["kind"] == "block"
    assert resnet["layer4.1.conv2"]["kind"] == "conv" and resnet["layer4"]["map_size"] == [7, 7]
    assert resnet["layer4"]["receptive_field_width"] == resnet["layer4"]["receptive_field_height"] == 435
    assert {e["kind"] for e in models["alexnet"]["evidence_layers"]} == {"conv"}
    layers = {entry["name"]: entry for entry in models["resnet18"]["layers"]}
    assert layers["conv1"]["receptive_field"] == layers["conv1"]["receptive_field_width"] == 7
