"""Scans on real Celery workers: a private redis-server, two real
``celery -A dashapp.worker worker`` processes. The result equals the
in-process scan exactly, also when a worker is SIGKILLed mid-shard."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dashapp.analysis.models.registry import ModelRegistry
from dashapp.analysis.scan.result import results_equal
from dashapp.analysis.scan.scanner import ScanItem, scan
from dashapp.collections.runtime import scanner_for
from dashapp.config.settings import Settings
from devtools.celery_workers import start_workers, worker_env
from devtools.servers import RedisServer, wait_for
from tests.support.noise_collection import make_collection, png
from tests.support.settings import app_settings

SHARD, BATCH = 4, 2
pytestmark = pytest.mark.slow


def settings_for(redis: RedisServer, data_dir: Path) -> Settings:
    return app_settings(data_dir=data_dir, redis_url=redis.url, models=("resnet18",),
                        scan_shard=SHARD, scan_batch=BATCH, scan_visibility_timeout_s=5)


def reference(scanner, collection) -> object:
    """The in-process scan over the same images, on one thread like the workers."""
    loaded = ModelRegistry(("resnet18",), policy="random", seed=0, device="cpu").get("resnet18")
    items = [ScanItem(m.image, scanner.images.get(m.image), m.label) for m in collection.images]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return scan(loaded, items, batch_size=BATCH)
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def workers(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory):
    """Two workers for the module (torch takes a while to import); the kill test runs last."""
    redis_server.client().flushdb()
    tmp_path = tmp_path_factory.mktemp("celery")
    env = worker_env(redis_server.url, tmp_path / "data", {"DASHAPP_SCAN_SHARD": str(SHARD),
                                                           "DASHAPP_SCAN_BATCH": str(BATCH),
                                                           "DASHAPP_SCAN_VISIBILITY_TIMEOUT": "5"})
    started = start_workers(2, env, tmp_path / "workers")
    try:
        yield started
    finally:
        for worker in started:
            worker.stop()


def test_two_workers_give_exactly_the_in_process_result(workers, redis_server, tmp_path: Path) -> None:
    scanner = scanner_for(settings_for(redis_server, tmp_path / "data"))
    collection = make_collection(scanner, 14)
    scanner.start(collection.id, "resnet18")
    wait_for(lambda: scanner.status(collection.id, "resnet18")["state"] == "done", 240, "the Celery scan")
    result = scanner.result(collection.id, "resnet18")
    assert result is not None and result.images == 14
    assert results_equal(result, reference(scanner, collection))
    # Both workers took shards.
    assert all(worker.tasks("succeeded") for worker in workers)


def test_the_api_under_gunicorn_scans_on_the_celery_workers(workers, redis_server, gunicorn_factory) -> None:
    """Production shape: gunicorn (2 workers) with DASHAPP_REDIS_URL sends the
    shards to the Celery workers; the web workers answer the progress."""
    web = gunicorn_factory({"DASHAPP_REDIS_URL": redis_server.url, "DASHAPP_MODELS": "resnet18",
                            "DASHAPP_SCAN_SHARD": str(SHARD), "DASHAPP_SCAN_BATCH": str(BATCH)})
    files = [("files", (f"{'pq'[i % 2]}/{i}.png", png(300 + i), "image/png")) for i in range(6)]
    answer = web.post("/api/collections", files=files, data={"name": "via-api"})
    assert answer.status_code == 201, answer.text
    collection = answer.json()["id"]
    before = sum(len(worker.tasks("succeeded")) for worker in workers)
    assert web.post(f"/api/collections/{collection}/scan?model=resnet18").status_code == 202
    polls = []

    def finished() -> bool:
        polls.append(web.get(f"/api/collections/{collection}/scan?model=resnet18"))
        return polls[-1].json()["state"] == "done"

    wait_for(finished, 240, "the scan through the API", interval=0.3)
    top = web.get(f"/api/collections/{collection}/top?model=resnet18&layer=layer1.0.conv1&filter=5&k=3").json()
    assert len(top) == 3 and top[0]["value"] >= top[1]["value"] >= top[2]["value"]
    # The shards ran on the Celery workers (6 images in shards of 4), not in the web workers.
    wait_for(lambda: sum(len(worker.tasks("succeeded")) for worker in workers) >= before + 2, 30, "the task logs")


def test_a_worker_killed_mid_shard_loses_nothing(workers, redis_server, tmp_path: Path) -> None:
    scanner = scanner_for(settings_for(redis_server, tmp_path / "data"))
    collection = make_collection(scanner, 24, offset=100)
    scanner.start(collection.id, "resnet18")
    victim, survivor = workers
    task = wait_for(victim.running_task, 180, "worker w1 to be running a shard", interval=0.02)
    victim.kill()
    wait_for(lambda: scanner.status(collection.id, "resnet18")["state"] == "done", 240, "the scan to recover")
    # The killed worker's shard is delivered again (unacknowledged). It may
    # come after the merge, when the victim died after storing its shard.
    wait_for(lambda: task in survivor.tasks("succeeded"), 120, "the killed worker's shard to be delivered again")
    result = scanner.result(collection.id, "resnet18")
    assert result is not None and result.images == 24
    assert results_equal(result, reference(scanner, collection))
