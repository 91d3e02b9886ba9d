"""POST /api/concepts and GET /api/concepts/<id> through the whole app
(create_app, the embedded default: the job runs in a thread of this process)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from dashapp.service import Analyzer
from devtools.servers import wait_for
from tests.support.concept_api import files


@pytest.fixture(scope="module")
def client(make_analyzer: Callable[..., Analyzer], make_app: Callable[..., Any]) -> Iterator[FlaskClient]:
    yield make_app(make_analyzer()).server.test_client()


def collection(client: FlaskClient, kind: str, count: int, offset: int = 0) -> str:
    upload = [(io.BytesIO(data), name) for name, data in files(kind, count, offset)]
    answer = client.post("/api/collections", data={"files": upload, "name": kind},
                         content_type="multipart/form-data")
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["id"]


@pytest.fixture(scope="module")
def ids(client: FlaskClient) -> dict[str, str]:
    return {"striped": collection(client, "striped", 6), "noise": collection(client, "noise", 10, 50),
            "class": collection(client, "noise", 3, 100)}


def ask(ids: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"model": "resnet18", "concepts": [ids["striped"]], "random": ids["noise"], "class": 340,
            "images": ids["class"], "layers": ["layer3", "layer4"], "runs": 2, **extra}


def test_a_concept_test_through_the_api(client: FlaskClient, ids: dict[str, str]) -> None:
    answer = client.post("/api/concepts", json=ask(ids))
    assert answer.status_code == 202, answer.get_json()
    job = answer.get_json()["id"]
    polls: list[dict[str, Any]] = []

    def done() -> bool:
        polls.append(client.get(f"/api/concepts/{job}").get_json())
        assert polls[-1]["state"] in ("queued", "running", "done"), polls[-1]
        return polls[-1]["state"] == "done"

    wait_for(done, 300, "the concept test", interval=0.2)
    final = polls[-1]
    assert final["done"] == final["total"] > 0
    assert [(row["concept"], row["layer"]) for row in final["results"]] == [(ids["striped"], "layer3"),
                                                                           (ids["striped"], "layer4")]
    for row in final["results"]:
        assert 0 <= row["score_mean"] <= 1 and 0 <= row["cav_accuracy"] <= 1 and 0 <= row["p_value"] <= 1
        assert row["significant"] == (row["p_value"] < 0.05 / 2)
        assert len(row["derivatives"]) == 3 and len(row["scores"]) == 2
    # The same inputs again: the same job, answered from the store.
    again = client.post("/api/concepts", json=ask(ids))
    assert again.status_code == 202 and again.get_json()["id"] == job and again.get_json()["state"] == "done"
    assert client.delete(f"/api/concepts/{job}").get_json()["state"] == "done"  # nothing left to cancel


@pytest.mark.parametrize(("change", "status", "words"), [
    ({"class": 1000}, 400, "does not exist"),
    ({"concepts": ["nope"]}, 404, "no collection"),
    ({"layers": ["layer9"]}, 404, "no conv layer or block"),
    ({"model": "vgg99"}, 404, "Unknown model"),
])
def test_bad_requests_answer_json_errors(client: FlaskClient, ids: dict[str, str], change: dict[str, Any],
                                         status: int, words: str) -> None:
    answer = client.post("/api/concepts", json=ask(ids, **change))
    assert answer.status_code == status and words in answer.get_json()["error"]


def test_no_json_and_unknown_jobs(client: FlaskClient) -> None:
    assert client.post("/api/concepts", data="x").status_code == 400
    assert client.get("/api/concepts/" + "a" * 64).status_code == 404
    assert client.get("/api/concepts/..%2f").status_code == 404
