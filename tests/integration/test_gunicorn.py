"""The app under real gunicorn (2 workers, gthread) on loopback, file-backed stores.

One gunicorn serves the whole module (each start costs two torch imports);
the restart test stops and starts that same server, so tests after it run
on the restarted one. Which worker answered is read from the access log
(``GunicornServer.served_by``), so the app needs no worker id.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest
import requests

from dashapp.analysis.maps.stats import layer_stats
from dashapp.analysis.models.registry import WeightsStatus
from dashapp.config.settings import Settings
from dashapp.store import ActivationStore, make_backend
from devtools.servers import GunicornServer, concurrently, random_png
from tests.support.synthetic import SyntheticModel, SyntheticSubject, SyntheticWeights

RESNET_LAYERS = ["conv1", "layer1.0.conv1", "layer2.0.conv1", "layer3.1.conv2", "layer4.1.conv2"]
ALEXNET_LAYERS = ["features.0", "features.3", "features.8"]
MAX_ROUNDS = 6  # extra rounds allowed for the kernel to hand requests to both workers

Query = tuple[tuple[str, str], ...]


@pytest.fixture(scope="module")
def server(gunicorn_factory: Callable[..., GunicornServer]) -> GunicornServer:
    return gunicorn_factory()


@pytest.fixture(scope="module")
def chelsea(server: GunicornServer, example_images: dict[str, bytes]) -> str:
    response = server.post("/api/images", files={"file": ("chelsea.png", example_images["chelsea.png"], "image/png")})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["width"] == 451 and body["height"] == 300 and body["format"] == "PNG"
    return str(body["sha256"])


def data_dir(server: GunicornServer) -> Path:
    return Path(server.env["DASHAPP_DATA_DIR"])


def upload(server: GunicornServer, data: bytes) -> str:
    response = server.post("/api/images", files={"file": ("image.png", data, "image/png")})
    assert response.status_code == 201, response.text
    return str(response.json()["sha256"])


def analysis(server: GunicornServer, sha: str, model: str, layer: str, **extra: Any) -> requests.Response:
    return server.get("/api/analysis", params={"image": sha, "model": model, "layer": layer, **extra})


def query_key(response: requests.Response) -> Query:
    """The query a response answered, from the URL it was sent to."""
    return tuple(sorted(parse_qsl(urlsplit(response.url).query)))


def total(stats: dict[int, dict[str, Any]], name: str) -> int:
    return sum(int(answer["cache"][name]) for answer in stats.values())


def burst(server: GunicornServer, calls: list[Callable[[], requests.Response]],
          threads: int = 8) -> list[tuple[requests.Response, int]]:
    """Run request callables on ``threads`` threads (fresh connections, so the
    kernel spreads them over the workers) and pair each response with its worker."""
    responses: list[requests.Response] = []
    for start in range(0, len(calls), threads):
        responses.extend(concurrently(calls[start : start + threads]))
    return list(zip(responses, server.served_by_many(responses), strict=True))


# --------------------------------------------------------------------------- (a)


def test_answers_are_identical_whichever_worker_serves(server: GunicornServer, chelsea: str) -> None:
    models = {entry["name"]: [layer["name"] for layer in entry["layers"]]
              for entry in server.get("/api/models").json()["models"]}
    assert set(RESNET_LAYERS) <= set(models["resnet18"]) and set(ALEXNET_LAYERS) <= set(models["alexnet"])

    queries = [("resnet18", layer, criterion) for layer, criterion in
               zip(RESNET_LAYERS, itertools.cycle(["balanced", "max", "std", "mean"]), strict=False)]
    queries += [("alexnet", layer, "balanced") for layer in ALEXNET_LAYERS]
    calls = [lambda q=q: analysis(server, chelsea, q[0], q[1], criterion=q[2], n=5)
             for q in queries for _ in range(5)]  # 8 queries x 5 = 40 requests

    answers: dict[Query, list[tuple[dict[str, Any], int]]] = {}
    for round_ in range(1 + MAX_ROUNDS):
        for response, pid in burst(server, calls if round_ == 0 else calls[:16]):
            assert response.status_code == 200, response.text
            answers.setdefault(query_key(response), []).append((response.json(), pid))
        if any(len({pid for _, pid in served}) > 1 for served in answers.values()):
            break
    assert len(answers) == len(queries)

    pids = {pid for served in answers.values() for _, pid in served}
    assert pids <= set(server.worker_pids())
    assert len(pids) == 2, f"every request went to one worker: {pids}"
    shared = [key for key, served in answers.items() if len({pid for _, pid in served}) > 1]
    assert shared, "no query was answered by both workers"

    for key, served in answers.items():
        first = served[0][0]
        assert first["ranking"]["filters"], key
        for body, pid in served[1:]:
            # Ranked filter indices, their statistics and the layer's: the same
            # numbers from every worker, to the last bit.
            assert [f["index"] for f in body["ranking"]["filters"]] == [f["index"] for f in first["ranking"]["filters"]]
            assert body["layer_stats"] == first["layer_stats"]
            assert body == first, f"worker {pid} answered {key} differently"


# --------------------------------------------------------------------------- (b)


def test_an_activation_computed_by_one_worker_is_a_hit_for_the_other(server: GunicornServer) -> None:
    sha = upload(server, random_png(seed=1234, width=160, height=120))  # an image no test has analysed
    before = server.worker_stats()

    # The first request for (image, model) runs alone, so exactly one worker
    # computes: concurrent first requests could legitimately compute once per
    # worker (the per-(image, model) lock is per process).
    first = analysis(server, sha, "resnet18", "layer1.0.conv1")
    assert first.status_code == 200, first.text
    computer = server.served_by(first)
    after_first = server.worker_stats()
    assert total(after_first, "computes") - total(before, "computes") == 1
    assert after_first[computer]["cache"]["computes"] - before[computer]["cache"]["computes"] == 1

    # The shared cache now holds every layer of that forward pass: a store in
    # this process, on the same directory, reads them without computing.
    def no_compute(model: Any, image: Any) -> Any:
        raise AssertionError(f"cache miss for {image} {model.name}")

    settings = Settings(data_dir=data_dir(server), weights="random")
    reader = ActivationStore(make_backend(settings), compute=no_compute)
    subject = SyntheticSubject(sha, SyntheticModel("resnet18", SyntheticWeights(WeightsStatus(False, seed=0).tag)))
    assert any(settings.cache_dir.iterdir())
    catalog = server.get("/api/models").json()["models"]
    layers = next(entry["layers"] for entry in catalog if entry["name"] == "resnet18")
    for layer in layers:
        maps = reader.layer(subject, layer["name"])
        assert maps.shape[0] == layer["out_channels"]
    cached = reader.layer(subject, "layer1.0.conv1")
    assert layer_stats(cached).as_dict() == first.json()["layer_stats"]
    assert reader.meta(subject)["top"] == first.json()["prediction"]

    # Many requests for other layers of the same (image, model): both workers
    # answer, nobody computes again, the other worker only hits.
    calls = [lambda layer=layer: analysis(server, sha, "resnet18", layer) for layer in RESNET_LAYERS * 4]
    seen: set[int] = set()
    for round_ in range(1 + MAX_ROUNDS):
        for response, pid in burst(server, calls if round_ == 0 else calls[:8]):
            assert response.status_code == 200, response.text
            seen.add(pid)
        if len(seen) == 2:
            break
    assert len(seen) == 2
    after_burst = server.worker_stats()
    assert total(after_burst, "computes") - total(before, "computes") == 1
    (other,) = set(after_burst) - {computer}
    assert after_burst[other]["cache"]["computes"] == before[other]["cache"]["computes"]
    assert after_burst[other]["cache"]["hits"] > before[other]["cache"]["hits"]

    # Same for the second model: one compute in all, whoever serves.
    alex = analysis(server, sha, "alexnet", "features.0")
    assert alex.status_code == 200
    burst(server, [lambda layer=layer: analysis(server, sha, "alexnet", layer) for layer in ALEXNET_LAYERS * 4])
    assert total(server.worker_stats(), "computes") - total(before, "computes") == 2


# --------------------------------------------------------------------------- (c)


def test_a_restart_keeps_images_answers_and_links(server: GunicornServer, chelsea: str) -> None:
    query = {"model": "resnet18", "layer": "layer1.0.conv1", "criterion": "balanced", "n": 6}
    before = analysis(server, chelsea, **query)
    assert before.status_code == 200
    old_pids = set(server.worker_pids())

    server.restart()  # same port, same data directory
    assert not old_pids & set(server.worker_pids())

    after = analysis(server, chelsea, **query)
    assert after.status_code == 200, after.text
    assert after.json() == before.json()
    # Served from the activation cache on disk: the restarted workers did not compute.
    assert total(server.worker_stats(), "computes") == 0

    page = server.get("/", params={"image": chelsea, "model": "resnet18", "layer": "layer1.0.conv1"})
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "<html" in page.text.lower() and "_dash-config" in page.text


# --------------------------------------------------------------------------- (d)


def test_bad_input_is_refused_without_harming_workers(server: GunicornServer, chelsea: str) -> None:
    pids = server.worker_pids()
    log_start = server.log_size()

    garbage = np.random.default_rng(5).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    refusals = [
        server.post("/api/images", files={"file": ("x.png", garbage, "image/png")}),
        server.post("/api/images", data=garbage, headers={"Content-Type": "application/octet-stream"}),
        server.post("/api/images", files={"file": ("empty.png", b"", "image/png")}),
        server.post("/api/images", json={"url": "http://169.254.169.254/latest/meta-data/"}),
        server.post("/api/images", data="not json", headers={"Content-Type": "text/plain"}),
        analysis(server, chelsea, "resnet18", "layer9.9.conv9"),
        analysis(server, chelsea, "vgg99", "conv1"),
        analysis(server, "0" * 64, "resnet18", "conv1"),
        analysis(server, "not-a-sha", "resnet18", "conv1"),
        analysis(server, chelsea, "resnet18", "conv1", n="many"),
        analysis(server, chelsea, "resnet18", "conv1", min_sparsity="nan"),
    ]
    for response in refusals:
        assert 400 <= response.status_code < 500, (response.request.url, response.status_code, response.text)
        assert response.headers["Content-Type"].startswith("application/json"), response.request.url
        message = response.json()["error"]
        assert isinstance(message, str) and message and "Traceback" not in message
    assert refusals[5].status_code == 404  # unknown layer
    assert refusals[6].status_code == 404  # unknown model
    assert refusals[7].status_code == 404  # unknown image

    good = analysis(server, chelsea, "resnet18", "layer2.0.conv1")
    assert good.status_code == 200 and good.json()["ranking"]["filters"]
    assert server.worker_pids() == pids  # no worker died or was replaced
    new_log = server.logs_since(log_start)
    assert "Traceback" not in new_log and "WORKER TIMEOUT" not in new_log, new_log
