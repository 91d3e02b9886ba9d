"""The app on Redis (images and activations) under real gunicorn, and the
stores directly against a real redis-server, including outages.

The redis-server is the session's (``redis_server``); a test that stops it
starts it again in ``finally``. It keeps nothing on disk, so a restart
comes back empty, which is what these tests assume about "after".
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from dashapp import intake, store
from dashapp.analysis.models.capture import Capture, Prediction
from dashapp.config.settings import Settings
from dashapp.store import ActivationStore, RedisImageStore, StoreUnavailable, make_backend
from devtools.servers import GunicornServer, RedisServer, concurrently, random_png, wait_for
from tests.support.settings import app_settings
from tests.support.synthetic import SyntheticModel, SyntheticSubject

MAX_ROUNDS = 8  # extra rounds allowed for the kernel to hand requests to both workers
OUTAGE_QUERY = {"model": "resnet18", "layer": "layer2.0.conv1", "criterion": "balanced", "n": 6}


@pytest.fixture(scope="module")
def server(gunicorn_factory: Callable[..., GunicornServer], redis_server: RedisServer) -> GunicornServer:
    return gunicorn_factory({"DASHAPP_REDIS_URL": redis_server.url})


@pytest.fixture
def redis_up(redis_server: RedisServer) -> Iterator[RedisServer]:
    """The session's redis, guaranteed running again after the test."""
    try:
        yield redis_server
    finally:
        redis_server.start()


def upload(server: GunicornServer, data: bytes) -> requests.Response:
    return server.post("/api/images", files={"file": ("image.png", data, "image/png")})


def analysis(server: GunicornServer, sha: str, **query: Any) -> requests.Response:
    return server.get("/api/analysis", params={"image": sha, **query})


def act_keys(redis_server: RedisServer, sha: str) -> list[bytes]:
    return list(redis_server.client().scan_iter(match=f"dashapp:act:*{sha}*", count=1000))


def until_both_workers(server: GunicornServer, call: Callable[[], requests.Response],
                       check: Callable[[requests.Response], None]) -> dict[int, list[requests.Response]]:
    """Repeat ``call`` in concurrent batches of fresh connections until both
    workers have answered; every response must pass ``check``."""
    by_pid: dict[int, list[requests.Response]] = {}
    for _ in range(1 + MAX_ROUNDS):
        responses = concurrently([call] * 6)
        for response, pid in zip(responses, server.served_by_many(responses), strict=True):
            check(response)
            by_pid.setdefault(pid, []).append(response)
        if len(by_pid) >= 2:
            return by_pid
    raise AssertionError(f"only worker(s) {sorted(by_pid)} answered in {1 + MAX_ROUNDS} rounds")


def expect_status(status: int) -> Callable[[requests.Response], None]:
    def check(response: requests.Response) -> None:
        assert response.status_code == status, (response.request.url, response.status_code, response.text)
        assert response.headers["Content-Type"].startswith("application/json")
        if status >= 400:
            assert isinstance(response.json()["error"], str) and response.json()["error"]

    return check


# --------------------------------------------------------------------------- through gunicorn


def test_images_and_activations_live_in_redis(server: GunicornServer, redis_server: RedisServer,
                                              example_images: dict[str, bytes]) -> None:
    response = upload(server, example_images["coffee.png"])
    assert response.status_code == 201, response.text
    sha = response.json()["sha256"]
    client = redis_server.client()
    assert client.exists(f"dashapp:image:{sha}")
    assert client.ttl(f"dashapp:image:{sha}") == -1  # durable: shared links keep working

    before = server.worker_stats()
    first = analysis(server, sha, **OUTAGE_QUERY)
    assert first.status_code == 200, first.text
    keys = act_keys(redis_server, sha)
    assert len(keys) == 20 + 1  # every conv layer of resnet18 from one forward pass, and the meta entry
    assert all(key.startswith(b"dashapp:act:") for key in keys)

    by_pid = until_both_workers(server, lambda: analysis(server, sha, **OUTAGE_QUERY), expect_status(200))
    for responses in by_pid.values():
        for response in responses:
            assert response.json() == first.json()
    after = server.worker_stats()
    computes = [sum(stats["cache"]["computes"] for stats in snapshot.values()) for snapshot in (before, after)]
    assert computes[1] - computes[0] == 1  # the other worker read Redis

    # Nothing went to the file stores.
    data = Path(server.env["DASHAPP_DATA_DIR"])
    assert not (data / "images").exists() or not any((data / "images").rglob("*.*"))
    assert not (data / "activations").exists() or not any((data / "activations").iterdir())


def test_redis_outage_degrades_then_recovers(server: GunicornServer, redis_up: RedisServer,
                                             example_images: dict[str, bytes]) -> None:
    # Before: both workers have served image A (so each holds it decoded), and
    # image B is stored in Redis but decoded by no worker (uploads don't decode
    # into the read cache).
    a = upload(server, example_images["astronaut.png"]).json()["sha256"]
    baseline = analysis(server, a, **OUTAGE_QUERY)
    assert baseline.status_code == 200, baseline.text
    until_both_workers(server, lambda: analysis(server, a, **OUTAGE_QUERY), expect_status(200))
    b_response = upload(server, random_png(seed=77))
    assert b_response.status_code == 201
    b = b_response.json()["sha256"]
    pids = server.worker_pids()
    log_start = server.log_size()

    redis_up.stop()

    # What this worker already has keeps being served, with the same numbers.
    for responses in until_both_workers(server, lambda: analysis(server, a, **OUTAGE_QUERY),
                                        expect_status(200)).values():
        assert all(response.json() == baseline.json() for response in responses)
    # A model never run on A: recomputed from the decoded image, cache or not.
    other_model = until_both_workers(server, lambda: analysis(server, a, model="alexnet", layer="features.3"),
                                     expect_status(200))
    answers = [response.json() for responses in other_model.values() for response in responses]
    assert all(answer == answers[0] for answer in answers)

    # What cannot be served says so: 503, a JSON error, never a 500.
    until_both_workers(server, lambda: analysis(server, b, **OUTAGE_QUERY), expect_status(503))
    until_both_workers(server, lambda: upload(server, random_png(seed=78)), expect_status(503))
    health = server.get("/healthz")
    assert health.status_code == 200
    assert sum(stats["cache"]["backend_errors"] for stats in server.worker_stats().values()) > 0

    redis_up.start()  # empty: it keeps nothing on disk

    # Uploads work again at once; analyses too, and once the cache's back-off
    # has passed, fresh activations reach Redis again.
    client = redis_up.client()
    stored: list[str] = []

    def recovered() -> bool:
        response = upload(server, random_png(seed=1000 + len(stored)))
        assert response.status_code == 201, response.text
        sha = response.json()["sha256"]
        stored.append(sha)
        assert client.exists(f"dashapp:image:{sha}")
        result = analysis(server, sha, **OUTAGE_QUERY)
        assert result.status_code == 200, result.text
        return bool(act_keys(redis_up, sha))

    wait_for(recovered, 30, "activations to be written to Redis again", interval=0.2)
    assert server.worker_pids() == pids  # no worker died on the way
    new_log = server.logs_since(log_start)
    assert "Traceback" not in new_log and "WORKER TIMEOUT" not in new_log, new_log


# --------------------------------------------------------------------------- the stores alone


LAYERS = ["a", "b", "c"]


class CountingCompute:
    """A stand-in forward pass: deterministic maps per (image, model), counted."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, model: SyntheticModel, sha: str) -> Capture:
        with self._lock:
            self.calls.append((sha, model.name))
        rng = np.random.default_rng(int(sha[:8], 16))
        responses = {name: rng.standard_normal((4, 5, 6)).astype(np.float32) for name in LAYERS}
        return Capture(responses=responses, top=[Prediction(1, "x", 0.5)], weights=None)  # type: ignore[arg-type]


def redis_settings(redis_server: RedisServer, tmp_path: Path) -> Settings:
    return app_settings(data_dir=tmp_path, redis_url=redis_server.url)


def fresh_sha() -> str:
    return uuid.uuid4().hex * 2


def test_activation_store_computes_once_across_processes_sharing_redis(redis_server: RedisServer,
                                                                       tmp_path: Path) -> None:
    settings = redis_settings(redis_server, tmp_path)
    compute = CountingCompute()
    # Two stores on one Redis: what two workers (or hosts) see.
    first = ActivationStore(make_backend(settings), compute=compute)
    second = ActivationStore(make_backend(settings), compute=compute)
    sha = fresh_sha()

    # Concurrent misses in one process wait for a single forward pass.
    results = concurrently([lambda name=name: first.layer(SyntheticSubject(sha), name) for name in LAYERS * 4])
    assert compute.calls == [(sha, "m")]
    assert first.stats["computes"] == 1

    for name, maps in zip(LAYERS * 4, results, strict=True):
        again = second.layer(SyntheticSubject(sha), name)
        np.testing.assert_array_equal(again, maps)  # float16-rounded on both sides
    assert second.meta(SyntheticSubject(sha))["top"][0]["label"] == "x"
    assert compute.calls == [(sha, "m")]
    assert second.stats["computes"] == 0 and second.stats["hits"] == len(LAYERS) * 4
    assert len(act_keys(redis_server, sha)) == len(LAYERS) + 1


def test_stores_degrade_while_redis_is_down_and_recover(redis_up: RedisServer, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        example_bytes: bytes) -> None:
    # Retry the backend on every call, so recovery is observable without waiting.
    monkeypatch.setattr(store.activations, "BACKEND_RETRY_S", 0.0)
    settings = redis_settings(redis_up, tmp_path)
    compute = CountingCompute()
    activations = ActivationStore(make_backend(settings), compute=compute)
    images = RedisImageStore(redis_up.url, settings.max_pixels)
    known = intake.accept_bytes(example_bytes)
    images.put(known)
    assert images.get(known.sha256) is not None  # now decoded in this process
    unknown = intake.accept_bytes(random_png(seed=5))

    redis_up.stop()

    down = fresh_sha()
    maps = activations.layer(SyntheticSubject(down), "a")  # no exception: recomputed
    assert maps.shape == (4, 5, 6)
    assert activations.stats["backend_errors"] > 0 and activations.stats["computes"] == 1
    assert images.get(known.sha256) is not None  # served from this process's decoded copy
    with pytest.raises(StoreUnavailable):
        images.get(unknown.sha256)
    with pytest.raises(StoreUnavailable):
        images.put(unknown)
    with pytest.raises(StoreUnavailable):
        images.has(unknown.sha256)
    assert StoreUnavailable("x").status == 503

    redis_up.start()

    up = fresh_sha()
    activations.layer(SyntheticSubject(up), "a")
    assert len(act_keys(redis_up, up)) == len(LAYERS) + 1  # written through again
    reader = ActivationStore(make_backend(settings), compute=CountingCompute())
    np.testing.assert_array_equal(reader.layer(SyntheticSubject(up), "b"), activations.layer(SyntheticSubject(up), "b"))
    assert reader.stats["computes"] == 0
    assert images.put(unknown) == unknown.sha256 and images.has(unknown.sha256)
    assert images.get(unknown.sha256) is not None
