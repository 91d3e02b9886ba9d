"""Feature visualization across hosts that share a real Redis: two hosts (two
data directories) asking for the same image compute it once, and either
host serves it; with Redis down a host still computes."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from dashapp.analysis.featurevis import optimize as engine
from dashapp.analysis.models.registry import ModelRegistry
from dashapp.service import featurevis as jobs_module
from dashapp.service.catalog import ModelCatalog
from dashapp.service.featurevis import FeatureVisJobs
from dashapp.store import ActivationStore, make_backend
from devtools.servers import RedisServer
from tests.support.settings import app_settings

LAYER = "layer1.0.conv1"


def host(tmp_path: Path, name: str, redis_url: str, registry: ModelRegistry) -> FeatureVisJobs:
    settings = app_settings(data_dir=tmp_path / name, redis_url=redis_url,
                            featurevis_max_steps=4, featurevis_max_size=32)
    return FeatureVisJobs(settings, ModelCatalog(settings, registry), ActivationStore(make_backend(settings)))


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    started: list[float] = []

    def visualize(*args: Any, **kwargs: Any) -> Any:
        started.append(time.monotonic())
        time.sleep(0.3)  # the other host's request arrives while this one runs
        return engine.visualize(*args, **kwargs)

    monkeypatch.setattr(jobs_module, "visualize", visualize)
    return started


def test_two_hosts_compute_one_visualization_once(tmp_path: Path, redis_server: RedisServer,
                                                  registry: ModelRegistry, calls: list[float]) -> None:
    redis_server.client().flushdb()
    hosts = [host(tmp_path, name, redis_server.url, registry) for name in ("a", "b")]
    answers: list[dict[str, Any]] = []
    threads = [threading.Thread(target=lambda h=h: answers.append(h.compute(h.request("resnet18", LAYER, "9"))))
               for h in hosts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(calls) == 1
    assert len(answers) == 2 and answers[0] == answers[1]
    for h in hosts:
        request = h.request("resnet18", LAYER, "9")
        assert h.status(request)["state"] == "done" and h.png(request)
    assert not redis_server.client().keys("dashapp:fvlock:*")  # released


def test_with_redis_down_a_host_still_computes(tmp_path: Path, redis_server: RedisServer,
                                               registry: ModelRegistry, calls: list[float]) -> None:
    jobs = host(tmp_path, "c", redis_server.url, registry)
    redis_server.stop()
    try:
        meta = jobs.compute(jobs.request("resnet18", LAYER, "10"))
    finally:
        redis_server.start()
    assert meta["mean_response"] >= 0 and len(calls) == 1
