"""Feature visualization through the API of real gunicorn workers: start, poll,
PNG, join, the cache surviving a restart, limits and bad input."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
import requests
from PIL import Image

from devtools.servers import GunicornServer, wait_for

STEPS = 12
SIZE = 48
UNIT = "model=resnet18&layer=layer1.0.conv1"


@pytest.fixture(scope="module")
def server(gunicorn_factory: Any) -> GunicornServer:
    # Small caps make every job short: a job runs min(default, cap) steps and pixels.
    return gunicorn_factory({"DASHAPP_FEATUREVIS_MAX_STEPS": str(STEPS), "DASHAPP_FEATUREVIS_MAX_SIZE": str(SIZE),
                             "DASHAPP_FEATUREVIS_QUEUE": "2", "DASHAPP_MODELS": "resnet18"}, workers=2)


def poll_until_done(server: GunicornServer, query: str, timeout: float = 120) -> dict[str, Any]:
    seen: list[dict[str, Any]] = []

    def done() -> dict[str, Any] | None:
        answer = server.get(f"/api/featurevis?{query}")
        assert answer.status_code in (200, 404), answer.text
        body = answer.json()
        seen.append(body)
        assert body["state"] in ("queued", "running", "done"), body
        return body if body["state"] == "done" else None

    result = wait_for(done, timeout, f"feature visualization {query}", interval=0.1)
    steps = [body["step"] for body in seen]
    assert steps == sorted(steps)  # progress never goes backwards, whichever worker answers
    return result


def test_start_poll_png_and_cached_answer(server: GunicornServer) -> None:
    query = f"{UNIT}&filter=3&objective=channel"
    started = server.post(f"/api/featurevis?{query}")
    assert started.status_code == 202, started.text
    assert started.json()["state"] in ("queued", "running") and started.json()["steps"] == STEPS
    done = poll_until_done(server, query)
    assert done["steps"] == STEPS and done["step"] == STEPS
    assert np.isfinite(done["mean_response"]) and done["mean_response"] >= 0
    assert done["weights"]["status"] == "untrained"
    png = server.get(done["png"])
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(png.content))
    assert image.size == (SIZE, SIZE) and image.mode == "RGB"
    assert np.asarray(image).std() > 1  # an image, not a flat square
    again = server.post(f"/api/featurevis?{query}")  # cached: answered at once, by either worker
    assert again.status_code == 200 and again.json()["state"] == "done"
    assert again.json()["mean_response"] == done["mean_response"]


def test_a_second_request_is_answered_by_the_same_computation(server: GunicornServer) -> None:
    query = f"{UNIT}&filter=7&objective=neuron"
    first = server.post(f"/api/featurevis?{query}")
    second = server.post(f"/api/featurevis?{query}")
    assert first.status_code == 202
    assert second.json()["state"] in ("queued", "running", "done")
    poll_until_done(server, query)
    # Whichever workers took the two requests, the image was computed once.
    computed = [line for line in server.logs(2000).splitlines()
                if "featurevis computed" in line and "layer1.0.conv1:7:" in line and "objective=neuron" in line]
    assert len(computed) == 1, computed


def test_results_survive_a_restart(server: GunicornServer) -> None:
    query = f"{UNIT}&filter=3&objective=channel"
    server.restart()
    answer = server.get(f"/api/featurevis?{query}")
    assert answer.status_code == 200 and answer.json()["state"] == "done"
    assert server.get(answer.json()["png"]).status_code == 200


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("model=resnet18&layer=layer1.0.conv1", 400, "filter is required"),
        ("model=resnet18&layer=nope&filter=1", 404, "no conv layer named"),
        ("model=vgg99&layer=layer1.0.conv1&filter=1", 404, "Unknown model"),
        ("model=resnet18&layer=layer1.0.conv1&filter=64", 404, "Filter 64 does not exist"),
        ("model=resnet18&layer=layer1.0.conv1&filter=-1", 400, "filter must be"),
        ("model=resnet18&layer=layer1.0.conv1&filter=1&objective=logit", 400, "objective must be one of"),
        (f"model=resnet18&layer=layer1.0.conv1&filter=1&steps={10**6}", 400, f"steps must be between 1 and {STEPS}"),
        ("model=resnet18&layer=layer1.0.conv1&filter=1&size=4096", 400, f"size must be between 32 and {SIZE}"),
        ("model=resnet18&layer=layer1.0.conv1&filter=1&steps=abc", 400, "steps must be a positive whole number"),
    ],
)
def test_bad_requests_are_4xx_json(server: GunicornServer, query: str, status: int, words: str) -> None:
    for method in ("GET", "POST"):
        answer = server.request(method, f"/api/featurevis?{query}")
        assert answer.status_code == status, answer.text
        assert words in answer.json()["error"]
    png = server.get(f"/api/featurevis.png?{query}")
    assert png.status_code == status and words in png.json()["error"]


def test_absent_visualization_is_404_and_png_too(server: GunicornServer) -> None:
    query = f"{UNIT}&filter=60"
    answer = server.get(f"/api/featurevis?{query}")
    assert answer.status_code == 404 and answer.json()["state"] == "absent"
    png = server.get(f"/api/featurevis.png?{query}")
    assert png.status_code == 404 and "POST /api/featurevis" in png.json()["error"]


def test_queue_bound_answers_429(server: GunicornServer) -> None:
    """Each worker accepts 2 jobs at once (DASHAPP_FEATUREVIS_QUEUE=2); a burst
    of distinct jobs over one connection per request gets 429s beyond that."""
    session = requests.Session
    answers = [server.post(f"/api/featurevis?{UNIT}&filter={index}&objective=diversity", session=session())
               for index in range(20, 32)]
    codes = [answer.status_code for answer in answers]
    assert set(codes) <= {200, 202, 429}, codes
    assert 429 in codes
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert "try again" in refused.json()["error"]
    for answer, index in zip(answers, range(20, 32), strict=True):  # let the accepted ones finish
        if answer.status_code == 202:
            poll_until_done(server, f"{UNIT}&filter={index}&objective=diversity", timeout=300)
