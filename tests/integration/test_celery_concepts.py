"""Concept tests on real Celery workers: a private redis-server, two real
``celery -A dashapp.worker worker`` processes. The result equals the
in-process job's; cancel stops a job; a worker SIGKILLed mid-job has its
job delivered again, and it finishes with the same result."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from dashapp.analysis.models.registry import ModelRegistry
from dashapp.collections import FileBlobStore
from dashapp.collections.runtime import scanner_for
from dashapp.config.settings import Settings
from dashapp.service.concepts.jobs import ConceptJobs
from dashapp.service.concepts.runtime import jobs_for
from devtools.celery_workers import start_workers, worker_env
from devtools.servers import RedisServer, wait_for
from tests.support.concept_api import stored
from tests.support.settings import app_settings

pytestmark = pytest.mark.slow
TASK = re.compile(r"Task dashapp\.concept_test\[(?P<id>[0-9a-f-]+)\] (?P<event>received|succeeded)")


def settings_for(redis: RedisServer, data_dir: Path) -> Settings:
    return app_settings(data_dir=data_dir, redis_url=redis.url, models=("resnet18",),
                        scan_visibility_timeout_s=5)


def tasks(worker, event: str) -> set[str]:
    return {m["id"] for m in TASK.finditer(worker.logs(100_000)) if m["event"] == event}


@pytest.fixture(scope="module")
def workers(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory):
    redis_server.client().flushdb()
    tmp_path = tmp_path_factory.mktemp("celery-concepts")
    env = worker_env(redis_server.url, tmp_path / "data", {"DASHAPP_SCAN_VISIBILITY_TIMEOUT": "5"})
    started = start_workers(2, env, tmp_path / "workers")
    try:
        yield started
    finally:
        for worker in started:
            worker.stop()


@pytest.fixture(scope="module")
def setting(workers, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory):
    scanner = scanner_for(settings_for(redis_server, tmp_path_factory.mktemp("web") / "data"))
    ids = {"striped": stored(scanner.collections, scanner.images, "striped", "striped", 6),
           "noise": stored(scanner.collections, scanner.images, "noise", "noise", 10, 50),
           "class": stored(scanner.collections, scanner.images, "class", "noise", 3, 100)}
    return jobs_for(scanner_settings(redis_server, tmp_path_factory), scanner), scanner, ids


def scanner_settings(redis_server: RedisServer, factory: pytest.TempPathFactory) -> Settings:
    return settings_for(redis_server, factory.mktemp("web2") / "data")


def ask(ids: dict[str, str], **extra: object) -> dict[str, object]:
    return {"model": "resnet18", "concepts": [ids["striped"]], "random": ids["noise"], "class": 340,
            "images": ids["class"], "layers": ["layer3", "layer4"], "runs": 3, **extra}


def reference(scanner, body: dict[str, object], tmp_path: Path) -> list[dict]:
    """The same job in this process, on one thread like the workers."""
    registry = ModelRegistry(("resnet18",), policy="random", seed=0, device="cpu")
    local = ConceptJobs(FileBlobStore(tmp_path / "ref"), scanner.collections, scanner.images, registry,
                        lambda jobs, job: None)
    job = local.start(body)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert local.run(job)
    finally:
        torch.set_num_threads(threads)
    return local.status(job)["results"]


def same(rows: list[dict], expected: list[dict]) -> None:
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected, strict=True):
        for field in ("concept", "layer", "significant", "scores", "null", "accuracies"):
            assert row[field] == want[field], field
        assert row["p_value"] == pytest.approx(want["p_value"], rel=1e-6, abs=1e-12)
        assert row["derivatives"] == pytest.approx(want["derivatives"], rel=1e-4, abs=1e-9)


def test_a_worker_gives_the_in_process_result(setting, tmp_path: Path) -> None:
    jobs, scanner, ids = setting
    job = jobs.start(ask(ids))
    wait_for(lambda: jobs.status(job)["state"] in ("done", "failed"), 300, "the Celery concept test")
    status = jobs.status(job)
    assert status["state"] == "done", status
    same(status["results"], reference(scanner, ask(ids), tmp_path))


def test_cancel_stops_a_job_on_a_worker(setting, workers) -> None:
    jobs, _scanner, ids = setting
    job = jobs.start(ask(ids, runs=50, layers=["layer1", "layer2", "layer3", "layer4"]))
    wait_for(lambda: jobs.status(job)["done"] > 0, 300, "the job to be running", interval=0.05)
    assert jobs.cancel(job)["state"] == "cancelled"
    # The worker stops at its next progress check and acknowledges the task.
    wait_for(lambda: sum(len(tasks(w, "succeeded")) for w in workers) >= 2, 60, "the cancelled task to end")
    assert jobs.status(job)["state"] == "cancelled" and jobs.result(job) is None


def test_a_worker_killed_mid_job_loses_nothing(setting, workers, tmp_path: Path) -> None:
    jobs, scanner, ids = setting
    body = ask(ids, seed=11)
    # Tasks of earlier tests (a cancelled one never logs "succeeded") are not this job's.
    before = {worker.name: tasks(worker, "received") for worker in workers}
    job = jobs.start(body)

    def this_jobs(worker) -> set[str]:
        return tasks(worker, "received") - before[worker.name]

    def running() -> object | None:
        return next((w for w in workers if this_jobs(w) - tasks(w, "succeeded")), None)

    victim = wait_for(running, 180, "a worker to be running the job", interval=0.02)
    (survivor,) = [w for w in workers if w is not victim]
    victim.kill()
    wait_for(lambda: jobs.status(job)["state"] == "done", 300, "the job to be delivered again and finish")
    assert tasks(survivor, "succeeded") & this_jobs(victim)
    same(jobs.status(job)["results"], reference(scanner, body, tmp_path))
