"""GET /api/circuit and GET /api/attribution through Flask's test client."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import pytest
from flask.testing import FlaskClient

from dashapp import create_app
from dashapp.analysis.models.registry import ModelRegistry
from dashapp.config.settings import Settings
from dashapp.service import Analyzer


@pytest.fixture(scope="module")
def service(make_settings: Callable[..., Settings], registry: ModelRegistry) -> Analyzer:
    return Analyzer(make_settings(), registry=registry)


@pytest.fixture(scope="module")
def client(service: Analyzer) -> Iterator[FlaskClient]:
    yield create_app(service.settings, service).server.test_client()


@pytest.fixture(scope="module")
def sha(client: FlaskClient, example_bytes: bytes) -> str:
    answer = client.post("/api/images", data={"file": (io.BytesIO(example_bytes), "cat.png")},
                         content_type="multipart/form-data")
    return answer.get_json()["sha256"]


def test_circuit_answer_is_complete_and_ranked(client: FlaskClient, sha: str) -> None:
    layer, index = "layer2.0.conv1", 7
    every = client.get(f"/api/circuit?image={sha}&model=resnet18&layer={layer}&filter={index}&k=0")
    assert every.status_code == 200
    body = every.get_json()
    assert set(body) == {"filter", "cell", "value", "bias", "inputs", "outputs"}
    assert body["filter"] == index and len(body["cell"]) == 2
    assert len(body["inputs"]) == 64
    total = sum(link["contribution"] for link in body["inputs"]) + body["bias"]
    assert total == pytest.approx(body["value"], rel=1e-9)
    first = body["inputs"][0]
    assert set(first) == {"layer", "channel", "source", "contribution", "weight_norm", "kernel"}
    assert first["source"] == "layer1" and first["layer"] == "layer1.1.conv2"
    assert len(first["kernel"]) == 3 and len(first["kernel"][0]) == 3
    contributions = [link["contribution"] for link in body["inputs"]]
    assert contributions == sorted(contributions, reverse=True)
    assert {link["layer"] for link in body["outputs"]} == {"layer2.0.conv2"}
    # At the peak cell, value is the filter's max in /api/analysis.
    analysis = client.get(f"/api/analysis?image={sha}&model=resnet18&layer={layer}&n=128").get_json()
    peak = next(f["max"] for f in analysis["ranking"]["filters"] if f["index"] == index)
    assert body["value"] == pytest.approx(peak, rel=1e-3, abs=1e-3)  # the stored maps are float16
    by_weight = client.get(f"/api/circuit?image={sha}&model=resnet18&layer={layer}&filter={index}"
                           "&rank_by=weight&k=5").get_json()
    norms = [link["weight_norm"] for link in by_weight["inputs"]]
    assert len(norms) == 5 and norms == sorted(norms, reverse=True)
    assert norms[0] == max(link["weight_norm"] for link in body["inputs"])


def test_circuit_names_the_identity_path(client: FlaskClient, sha: str) -> None:
    body = client.get(f"/api/circuit?image={sha}&model=resnet18&layer=layer1.0.conv2&filter=3&k=0").get_json()
    identity = [link for link in body["outputs"] if link["contribution"] is None]
    assert identity == [{"layer": "layer1.1", "channel": 3, "source": "layer1.1", "contribution": None,
                         "weight_norm": 1.0, "kernel": [[1.0]]}]


@pytest.mark.parametrize("method", ["gradxact", "ig"])
def test_attribution_answer(client: FlaskClient, sha: str, method: str) -> None:
    answer = client.get(f"/api/attribution?image={sha}&model=resnet18&layer=layer4&class=281&method={method}&k=0")
    assert answer.status_code == 200
    body = answer.get_json()
    assert set(body) == {"class", "logit", "baseline_logit", "residual", "channels"}
    assert body["class"] == 281 and len(body["channels"]) == 512
    total = sum(c["attribution"] for c in body["channels"])
    assert total == pytest.approx(body["logit"] - body["baseline_logit"] - body["residual"], rel=1e-6, abs=1e-9)
    assert abs(body["residual"]) <= 0.01 * abs(body["logit"] - body["baseline_logit"])
    assert len(body["channels"][0]["map"]) == 7 and len(body["channels"][0]["map"][0]) == 7
    values = [c["attribution"] for c in body["channels"]]
    assert values == sorted(values, reverse=True)
    top = client.get(f"/api/attribution?image={sha}&model=resnet18&layer=layer4&class=281&method={method}&k=3")
    assert [c["channel"] for c in top.get_json()["channels"]] == [c["channel"] for c in body["channels"][:3]]


@pytest.mark.parametrize(("query", "status", "words"), [
    ("/api/circuit?model=resnet18&layer=conv1&filter=0", 400, "image is required"),
    ("/api/circuit?image={sha}&model=resnet18&filter=0", 400, "layer is required"),
    ("/api/circuit?image={sha}&model=resnet18&layer=conv1", 400, "filter is required"),
    ("/api/circuit?image={sha}&model=resnet18&layer=conv1&filter=64", 404, "Filter 64 does not exist"),
    ("/api/circuit?image={sha}&model=resnet18&layer=conv1&filter=-1", 400, "whole number"),
    ("/api/circuit?image={sha}&model=resnet18&layer=nope&filter=0", 404, "no conv layer"),
    ("/api/circuit?image={sha}&model=vgg99&layer=conv1&filter=0", 404, "Unknown model"),
    ("/api/circuit?image={sha}&model=resnet18&layer=conv1&filter=0&rank_by=loud", 400, "rank_by"),
    ("/api/circuit?image={sha}&model=resnet18&layer=conv1&filter=0&k=x", 400, "whole number"),
    ("/api/attribution?image={sha}&model=resnet18&layer=layer4&class=1000", 400, "class must be between"),
    ("/api/attribution?image={sha}&model=resnet18&layer=layer4", 400, "class is required"),
    ("/api/attribution?image={sha}&model=resnet18&layer=layer4&class=1&method=saliency", 400, "method must"),
    ("/api/attribution?image={sha}&model=resnet18&layer=layer9&class=1", 404, "no conv layer or block"),
    ("/api/attribution?image=" + "0" * 64 + "&model=resnet18&layer=layer4&class=1", 404, "No image"),
])
def test_bad_requests_are_json_errors(client: FlaskClient, sha: str, query: str, status: int, words: str) -> None:
    answer = client.get(query.format(sha=sha))
    assert answer.status_code == status
    assert words in answer.get_json()["error"]


def test_errors_speak_spanish(client: FlaskClient, sha: str) -> None:
    answer = client.get(f"/api/circuit?image={sha}&model=resnet18&layer=conv1&lang=es")
    assert answer.status_code == 400
    assert "filter" in answer.get_json()["error"] and "obligatorio" in answer.get_json()["error"]


def test_warm_answers_come_from_the_memo(client: FlaskClient, sha: str, service: Analyzer) -> None:
    query = f"/api/circuit?image={sha}&model=alexnet&layer=features.3&filter=2"
    first = client.get(query).get_json()
    held = service.memo.bytes
    assert client.get(query).get_json() == first
    assert service.memo.bytes == held  # nothing computed again
