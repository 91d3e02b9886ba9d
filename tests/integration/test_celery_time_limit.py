"""A shard that hangs is noticed: its pool process is stopped past
``DASHAPP_SCAN_TIME_LIMIT`` and the scan says why, instead of staying
"running" for good (a real redis-server, the Procfile's celery worker)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psutil
import pytest

from dashapp.collections.runtime import scanner_for
from devtools.celery_workers import start_workers, worker_env
from devtools.servers import RedisServer, wait_for
from tests.support.noise_collection import make_collection
from tests.support.settings import app_settings

LIMIT_S = 4
IMAGES = 40  # one shard of 40 single-image batches: seconds of work, time enough to stop it midway
pytestmark = pytest.mark.slow


def test_a_hung_shard_fails_its_scan_with_a_message(redis_server: RedisServer, tmp_path: Path) -> None:
    redis_server.client().flushdb()
    # One pool process (the Procfile's ${SCAN_CONCURRENCY}): the one that takes the shard is the one stopped.
    env = worker_env(redis_server.url, tmp_path / "data", {"DASHAPP_SCAN_TIME_LIMIT": str(LIMIT_S),
                                                           "SCAN_CONCURRENCY": "1"})
    [worker] = start_workers(1, env, tmp_path / "workers")
    try:
        scanner = scanner_for(app_settings(data_dir=tmp_path / "data", redis_url=redis_server.url,
                                           models=("resnet18",), scan_shard=IMAGES, scan_batch=1))
        collection = make_collection(scanner, IMAGES)
        scanner.start(collection.id, "resnet18")
        wait_for(lambda: worker.running_task() is not None, 120, "the worker to take a shard", interval=0.1)
        assert worker.process is not None
        # A pool process that hangs where Python cannot interrupt it (as the
        # fork-after-OpenMP hang did): stopped, it runs nothing, not even the
        # soft limit's handler.
        [pool_process] = psutil.Process(worker.process.pid).children()
        os.kill(pool_process.pid, signal.SIGSTOP)
        assert scanner.status(collection.id, "resnet18")["state"] != "done", "stopped too late to test anything"
        wait_for(lambda: scanner.status(collection.id, "resnet18")["state"] == "failed", 120,
                 "the scan to fail past its time limit")
        status = scanner.status(collection.id, "resnet18")
        assert f"{LIMIT_S} s time limit" in status["error"]
        # ... and the hung process is killed (SIGTERM first, then SIGKILL), its slot given to a new one.
        wait_for(lambda: not pool_process.is_running() or pool_process.status() == psutil.STATUS_ZOMBIE, 60,
                 "the hung pool process to be killed")
    finally:
        worker.stop()
