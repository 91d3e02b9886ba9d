"""Feature visualization jobs: cached in the store's backend, computed once,
one at a time, with honest progress and clear refusals."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image

from dashapp.analysis.featurevis import optimize as engine
from dashapp.analysis.featurevis.optimize import FeatureVisError
from dashapp.analysis.models.registry import ModelRegistry
from dashapp.config.settings import Settings
from dashapp.errors import UserError
from dashapp.service import featurevis as jobs_module
from dashapp.service.catalog import ModelCatalog
from dashapp.service.featurevis import FeatureVisJobs
from dashapp.store import ActivationStore, make_backend

LAYER = "layer1.0.conv1"


def make_jobs(settings: Settings, registry: ModelRegistry) -> FeatureVisJobs:
    """A worker's job service on the shared data directory (a new one = a restart)."""
    return FeatureVisJobs(settings, ModelCatalog(settings, registry), ActivationStore(make_backend(settings)))


@pytest.fixture
def small(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(models=("resnet18",), featurevis_max_steps=4, featurevis_max_size=32, featurevis_queue=1)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Counts optimizations, how many ran at once, and can hold them at their first step."""
    record: dict[str, Any] = {"calls": 0, "running": 0, "most": 0, "release": threading.Event(),
                              "entered": threading.Event()}
    record["release"].set()
    guard = threading.Lock()

    def visualize(*args: Any, **kwargs: Any) -> Any:
        with guard:
            record["calls"] += 1
            record["running"] += 1
            record["most"] = max(record["most"], record["running"])
        record["entered"].set()
        try:
            assert record["release"].wait(30)
            time.sleep(0.05)  # long enough for a second request to arrive meanwhile
            return engine.visualize(*args, **kwargs)
        finally:
            with guard:
                record["running"] -= 1

    monkeypatch.setattr(jobs_module, "visualize", visualize)
    return record


def test_a_result_is_cached_as_png_and_meta_and_survives_a_restart(small: Settings, registry: ModelRegistry,
                                                                   counted: dict[str, Any]) -> None:
    jobs = make_jobs(small, registry)
    request = jobs.request("resnet18", LAYER, "3")
    assert request.settings.steps == 4 and request.settings.size == 32  # min(default, cap)
    assert jobs.status(request)["state"] == "absent"
    meta = jobs.compute(request)
    assert meta["weights"]["status"] == "untrained" and meta["mean_response"] >= 0
    restarted = make_jobs(small, registry)
    again = restarted.request("resnet18", LAYER, "3")
    status = restarted.status(again)
    assert status["state"] == "done" and status["step"] == status["steps"] == 4
    assert status["png"] == f"/api/featurevis.png?{again.query}"
    assert status["mean_response"] == meta["mean_response"]
    png = restarted.png(again)
    assert png is not None and Image.open(io.BytesIO(png)).size == (32, 32)
    assert restarted.compute(again) == meta
    assert counted["calls"] == 1


def test_concurrent_requests_for_one_visualization_compute_it_once(small: Settings, registry: ModelRegistry,
                                                                   counted: dict[str, Any]) -> None:
    workers = [make_jobs(small, registry) for _ in range(3)]  # as three workers of one host
    answers: list[dict[str, Any]] = []
    threads = [threading.Thread(target=lambda j=j: answers.append(j.compute(j.request("resnet18", LAYER, "5"))))
               for j in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert counted["calls"] == 1
    assert len(answers) == 3 and answers[0] == answers[1] == answers[2]


def test_different_visualizations_take_turns(small: Settings, registry: ModelRegistry,
                                             counted: dict[str, Any]) -> None:
    workers = [make_jobs(small, registry) for _ in range(3)]
    threads = [threading.Thread(target=lambda j=j, i=i: j.compute(j.request("resnet18", LAYER, str(i))))
               for i, j in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert counted["calls"] == 3 and counted["most"] == 1  # one optimization at a time per host


def test_start_joins_reports_progress_and_bounds_the_queue(small: Settings, registry: ModelRegistry,
                                                           counted: dict[str, Any]) -> None:
    jobs = make_jobs(small, registry)
    counted["release"].clear()  # hold the first optimization at its start
    first = jobs.request("resnet18", LAYER, "1")
    assert jobs.start(first)["state"] in ("queued", "running")
    assert counted["entered"].wait(30)
    assert jobs.start(first)["state"] == "running"  # joined, not started twice
    other_worker = make_jobs(small, registry)
    assert other_worker.status(other_worker.request("resnet18", LAYER, "1"))["state"] == "running"
    with pytest.raises(UserError) as refused:
        jobs.start(jobs.request("resnet18", LAYER, "2"))  # DASHAPP_FEATUREVIS_QUEUE=1
    assert refused.value.status == 429
    counted["release"].set()
    deadline = time.monotonic() + 60
    while jobs.status(first)["state"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert counted["calls"] == 1


def test_a_failure_is_reported_and_may_be_retried(small: Settings, registry: ModelRegistry,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = make_jobs(small, registry)
    request = jobs.request("resnet18", LAYER, "4")

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise FeatureVisError("the layer was not reached")

    monkeypatch.setattr(jobs_module, "visualize", broken)
    with pytest.raises(FeatureVisError):
        jobs.compute(request)
    status = jobs.status(request)
    assert status["state"] == "error" and "not reached" in status["error"]
    monkeypatch.setattr(jobs_module, "visualize", engine.visualize)
    assert jobs.compute(request)["mean_response"] >= 0
    assert jobs.status(request)["state"] == "done"


def test_a_dead_jobs_progress_goes_stale(small: Settings, registry: ModelRegistry) -> None:
    jobs = make_jobs(small, registry)
    request = jobs.request("resnet18", LAYER, "6")
    entry = {"state": "running", "step": 2, "steps": 4, "started": 0, "updated": time.time() - 600}
    jobs.store.put_blob(f"{request.key}:progress", json.dumps(entry).encode())
    assert jobs.status(request)["state"] == "absent"


@pytest.mark.parametrize(
    ("args", "status", "words"),
    [
        (("resnet18", "nope", "1"), 404, "no conv layer"),
        (("vgg99", LAYER, "1"), 404, "Unknown model"),
        (("resnet18", LAYER, "64"), 404, "Filter 64 does not exist"),
        (("resnet18", LAYER, "1e3"), 400, "filter must be"),
        (("resnet18", LAYER, "1", "pre_relu"), 400, "objective must be one of"),
        (("resnet18", LAYER, "1", "channel", "5"), 400, "steps must be between 1 and 4"),
        (("resnet18", LAYER, "1", "channel", None, "33"), 400, "size must be between 32 and 32"),
        (("resnet18", LAYER, "1", "channel", "-3"), 400, "steps must be a positive whole number"),
    ],
)
def test_bad_requests_are_refused_with_a_status(small: Settings, registry: ModelRegistry, args: tuple[Any, ...],
                                                status: int, words: str) -> None:
    with pytest.raises(UserError) as refused:
        make_jobs(small, registry).request(*args)
    assert refused.value.status == status and words in refused.value.message


def test_the_key_names_model_weights_unit_and_settings(small: Settings, registry: ModelRegistry) -> None:
    jobs = make_jobs(small, registry)
    key = jobs.request("resnet18", LAYER, "7", "neuron").key
    assert key.startswith("fv1:resnet18:random0:layer1.0.conv1:7:")
    assert "objective=neuron" in key and "steps=4" in key and "size=32" in key
    assert key != jobs.request("resnet18", LAYER, "7", "channel").key
    assert "batch=4" in jobs.request("resnet18", LAYER, "7", "diversity").key
