"""Long page jobs do not starve scans: on the Procfile's own Celery worker
(real redis-server, the default prefork pool), a scan starts and finishes
while a forged feature-visualization page job is still optimizing, and the
page jobs past the host's slot are refused at once instead of taking the
worker's other process."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashapp import create_app
from dashapp.collections.runtime import scanner_for
from devtools.celery_workers import start_workers, worker_env
from devtools.servers import RedisServer, wait_for
from tests.support.noise_collection import make_collection
from tests.support.settings import app_settings

pytestmark = pytest.mark.slow
LAYER = "layer4.1.conv2"  # the deepest conv: its optimization takes a while on one CPU thread


def test_a_scan_runs_while_a_long_page_job_holds_the_worker(redis_server: RedisServer, tmp_path: Path) -> None:
    redis_server.client().flushdb()
    env = worker_env(redis_server.url, tmp_path / "worker-data", {"DASHAPP_SCAN_SHARD": "4",
                                                                  "DASHAPP_SCAN_BATCH": "2"})
    settings = app_settings(data_dir=tmp_path / "web-data", redis_url=redis_server.url,
                            models=("resnet18",), scan_shard=4, scan_batch=2)
    web = create_app(settings)
    celery = web._background_manager.handle
    page_tasks = sorted(name for name in celery.tasks if name.startswith("background_callback_"))
    assert page_tasks
    (worker,) = start_workers(1, env, tmp_path / "workers")
    try:
        # Forged page jobs, straight to the broker as Dash's CeleryManager sends them: every page task, each
        # asked for one filter of the deepest layer (the Feature visualization page's and the detail page's).
        targets = {"model": "resnet18", "layer": LAYER, "objective": "channel", "filters": [0]}
        for number, name in enumerate(page_tasks * 3):
            celery.send_task(name, args=[f"forged-{number}", f"forged-{number}-progress", [1, targets, {}], {}])
        featurevis = web.server.extensions["dashapp.analyzer"].featurevis
        request = featurevis.request("resnet18", LAYER, "0")
        wait_for(lambda: featurevis.status(request)["state"] == "running", 240, "the page job to start optimizing",
                 interval=0.2)

        scanner = scanner_for(settings)
        collection = make_collection(scanner, 6)
        scanner.start(collection.id, "resnet18")
        wait_for(lambda: scanner.status(collection.id, "resnet18")["state"] in ("done", "failed"), 120,
                 "the scan, while the page job runs")
        assert scanner.status(collection.id, "resnet18")["state"] == "done"
        assert featurevis.status(request)["state"] == "running", "the scan waited for the page job"
        # The other forged jobs were answered "busy" at once (one page job per host at a time).
        refused = [key for key in (f"forged-{n}" for n in range(len(page_tasks) * 3))
                   if b"busy" in (redis_server.client().get(key) or b"")]
        assert refused, worker.logs()
    finally:
        worker.stop()


def test_the_worker_consumes_the_scan_and_page_queues(redis_server: RedisServer, tmp_path: Path) -> None:
    settings = app_settings(data_dir=tmp_path / "data", redis_url=redis_server.url)
    celery = create_app(settings)._background_manager.handle
    router = celery.amqp.router
    queues = {queue.name for queue in celery.conf.task_queues}
    assert router.route({}, "dashapp.scan_shard")["queue"].name == "scans"
    pages = next(name for name in celery.tasks if name.startswith("background_callback_"))
    assert router.route({}, pages)["queue"].name == "pages"
    assert {"scans", "pages"} <= queues
