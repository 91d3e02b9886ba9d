"""The JSON API through Flask's test client (the same app gunicorn serves)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from dashapp import create_app
from dashapp.analysis.models.registry import ModelRegistry
from dashapp.config.settings import Settings
from dashapp.service import Analyzer


@pytest.fixture(scope="module")
def module_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture(scope="module")
def module_analyzer(module_settings: Settings, registry: ModelRegistry) -> Analyzer:
    return Analyzer(module_settings, registry=registry)


@pytest.fixture(scope="module")
def client(module_settings: Settings, module_analyzer: Analyzer) -> Iterator[FlaskClient]:
    app = create_app(module_settings, module_analyzer)
    yield app.server.test_client()


def upload(client: FlaskClient, data: bytes, name: str = "x.png") -> Any:
    return client.post("/api/images", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_upload_then_analysis(client: FlaskClient, example_bytes: bytes) -> None:
    answer = upload(client, example_bytes)
    assert answer.status_code == 201
    body = answer.get_json()
    assert len(body["sha256"]) == 64 and (body["width"], body["height"]) == (451, 300)
    result = client.get(f"/api/analysis?image={body['sha256']}&model=resnet18&layer=layer2.0.conv1&n=5")
    assert result.status_code == 200
    data = result.get_json()
    assert data["weights"]["status"] == "untrained" and data["weights"]["reason"]
    assert len(data["prediction"]) == 5
    assert data["layer"]["name"] == "layer2.0.conv1" and data["layer"]["out_channels"] == 128
    ranked = data["ranking"]["filters"]
    assert len(ranked) == 5 and [f["rank"] for f in ranked] == [1, 2, 3, 4, 5]
    first = ranked[0]
    assert {"index", "score", "mean", "max", "std", "sparsity", "regions", "threshold", "reading"} <= set(first)
    assert first["regions"] and first["regions"][0]["number"] == 1
    box = first["regions"][0]
    assert 0 <= box["x0"] < box["x1"] <= 451 and 0 <= box["y0"] < box["y1"] <= 300
    assert first["reading"]["summary"].startswith(f"Filter {first['index']}")
    # Same answer twice (second one from the cache).
    again = client.get(f"/api/analysis?image={body['sha256']}&model=resnet18&layer=layer2.0.conv1&n=5").get_json()
    assert again["ranking"] == data["ranking"]


def test_raw_body_upload_and_models(client: FlaskClient, example_bytes: bytes) -> None:
    answer = client.post("/api/images", data=example_bytes, content_type="image/png")
    assert answer.status_code == 201
    models = client.get("/api/models").get_json()["models"]
    names = [m["name"] for m in models]
    assert names == ["resnet18", "alexnet"]
    resnet = models[0]
    assert resnet["layers"][0]["name"] == "conv1" and resnet["layers"][0]["map_size"] == [112, 112]
    assert client.get("/healthz").get_json()["status"] == "ok"


@pytest.mark.parametrize(
    ("query", "status", "word"),
    [
        ("model=resnet18&layer=layer2.0.conv1", 400, "image"),
        ("image=xyz&model=resnet18&layer=conv1", 400, "SHA-256"),
        (f"image={'0' * 64}&model=resnet18&layer=conv1", 404, "upload"),
        ("image=IMG&model=vgg99&layer=conv1", 404, "model"),
        ("image=IMG&model=resnet18&layer=nope", 404, "nope"),
        ("image=IMG&model=resnet18", 400, "layer"),
        ("image=IMG&model=resnet18&layer=conv1&criterion=median", 400, "criterion"),
        ("image=IMG&model=resnet18&layer=conv1&n=0", 400, "n"),
        ("image=IMG&model=resnet18&layer=conv1&n=-1", 400, "n"),
        ("image=IMG&model=resnet18&layer=conv1&n=NaN", 400, "n"),
        ("image=IMG&model=resnet18&layer=conv1&n=2.5", 400, "whole"),
        ("image=IMG&model=resnet18&layer=conv1&weight=1.5", 400, "weight"),
        ("image=IMG&model=resnet18&layer=conv1&min_sparsity=-0.1", 400, "min_sparsity"),
        ("image=IMG&model=resnet18&layer=conv1&weight=abc", 400, "number"),
    ],
)
def test_bad_queries_get_clear_4xx(client: FlaskClient, example_bytes: bytes, query: str, status: int,
                                   word: str) -> None:
    sha = upload(client, example_bytes).get_json()["sha256"]
    answer = client.get("/api/analysis?" + query.replace("IMG", sha))
    assert answer.status_code == status
    assert word.lower() in answer.get_json()["error"].lower()
    # The next good request is answered normally.
    good = client.get(f"/api/analysis?image={sha}&model=resnet18&layer=conv1&n=1")
    assert good.status_code == 200


def test_n_is_bounded_by_the_layer(client: FlaskClient, example_bytes: bytes) -> None:
    sha = upload(client, example_bytes).get_json()["sha256"]
    data = client.get(f"/api/analysis?image={sha}&model=alexnet&layer=features.0&n=64&criterion=max")
    assert data.status_code == 200 and len(data.get_json()["ranking"]["filters"]) == 64
    data = client.get(f"/api/analysis?image={sha}&model=alexnet&layer=features.0&n=1000000&criterion=max")
    assert data.status_code == 400 and "1 to 64" in data.get_json()["error"]


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": b"", "content_type": "image/png"}, 400),
        ({"data": b"not an image at all", "content_type": "image/png"}, 415),
        ({"data": b"<svg xmlns='http://www.w3.org/2000/svg'/>", "content_type": "image/svg+xml"}, 415),
        ({"json": {"url": "file:///etc/passwd"}}, 400),
        ({"json": {"url": "http://169.254.169.254/latest/meta-data"}}, 400),
        ({"json": {"nothing": 1}}, 400),
        ({"data": b"a=b", "content_type": "application/x-www-form-urlencoded"}, 400),
    ],
)
def test_bad_uploads_get_clear_4xx(client: FlaskClient, kwargs: dict[str, Any], status: int) -> None:
    answer = client.post("/api/images", **kwargs)
    assert answer.status_code == status
    assert answer.get_json()["error"]


def test_upload_over_the_server_limit(settings: Settings, analyzer: Analyzer) -> None:
    small = settings.with_overrides(max_upload_bytes=20_000)
    from dashapp.service import Analyzer as _Analyzer

    app = create_app(small, _Analyzer(small, registry=analyzer.registry))
    client = app.server.test_client()
    big = b"\x89PNG" + b"0" * 200_000
    answer = client.post("/api/images", data={"file": (io.BytesIO(big), "big.png")}, content_type="multipart/form-data")
    assert answer.status_code == 413 and "limit" in answer.get_json()["error"]
    medium = b"\x89PNG" + b"0" * 25_000  # under Flask's request cap, over the image limit
    answer = client.post("/api/images", data=medium, content_type="image/png")
    assert answer.status_code == 413


def test_unknown_api_route_is_json_404(client: FlaskClient) -> None:
    answer = client.get("/api/nothing")
    assert answer.status_code == 404 and "error" in answer.get_json()


def test_exports_csv_json_and_regions(client: FlaskClient, example_bytes: bytes) -> None:
    sha = upload(client, example_bytes).get_json()["sha256"]
    query = f"image={sha}&model=resnet18&layer=layer1.0.conv1&criterion=max&n=4&v=1&opacity=0.5&colormap=Jet"
    csv_answer = client.get("/api/export/ranking.csv?" + query)
    assert csv_answer.status_code == 200 and "attachment" in csv_answer.headers["Content-Disposition"]
    lines = csv_answer.get_data(as_text=True).strip().splitlines()
    assert lines[0].startswith("filter,rank,score,mean,max,std,sparsity,") and len(lines) == 5
    as_json = client.get("/api/export/ranking.json?" + query).get_json()
    assert [f["index"] for f in as_json["filters"]] == [int(line.split(",")[0]) for line in lines[1:]]
    regions = client.get("/api/export/regions.json?" + query + f"&filter={as_json['filters'][1]['index']}")
    body = regions.get_json()
    assert body["filter"] == as_json["filters"][1]["index"] and body["regions"] and len(body["patches"]) == 3
    default = client.get("/api/export/regions.json?" + query).get_json()
    assert default["filter"] == as_json["filters"][0]["index"]
    assert client.get("/api/export/regions.json?" + query + "&filter=abc").status_code == 400
    assert client.get("/api/export/regions.json?" + query + "&filter=9999").status_code == 404
    assert client.get("/api/export/ranking.xml?" + query).status_code == 404


def test_every_export_says_which_model_weights_layer_image_and_version(client: FlaskClient,
                                                                       example_bytes: bytes) -> None:
    import csv

    from dashapp.config.version import RELEASE

    sha = upload(client, example_bytes).get_json()["sha256"]
    query = f"image={sha}&model=resnet18&layer=layer2.0.conv1&n=3"
    expected = {"model": "resnet18", "weights_tag": "random0", "weights": "random", "layer": "layer2.0.conv1",
                "image": sha}
    rows = list(csv.DictReader(io.StringIO(client.get("/api/export/ranking.csv?" + query).get_data(as_text=True))))
    assert len(rows) == 3
    for row in rows:
        assert {key: row[key] for key in expected} == expected and row["app_version"].startswith(RELEASE)
    for route in ("ranking.json", "regions.json", "map.json"):
        body = client.get(f"/api/export/{route}?{query}&filter={rows[0]['filter']}").get_json()
        assert {key: body[key] for key in expected} == expected, route
        assert body["app_version"].startswith(RELEASE), route


def test_evidence_and_profile_go_through_the_store(module_analyzer: Analyzer, example_bytes: bytes) -> None:
    from dashapp.state.schema import ViewState

    sha = module_analyzer.library.ingest_bytes(example_bytes).sha256
    view = module_analyzer.open(ViewState(image=sha, model="resnet18", layer="layer4.1.conv2"))
    first = view.evidence(281, layer="layer4.1.conv2")
    computes = module_analyzer.activations.stats["computes"]
    again = module_analyzer.open(view.state).evidence(281, layer="layer4.1.conv2")
    assert again.map.shape == (7, 7) and (again.map == first.map).all() and again.scale == first.scale
    assert module_analyzer.activations.stats["computes"] == computes
    rows = view.profile()
    assert [r["layer"] for r in rows] == list(module_analyzer.models.layers("resnet18"))
    assert all(0 <= r["passing"] <= r["filters"] and len(r["strongest"]) == 3 for r in rows)
