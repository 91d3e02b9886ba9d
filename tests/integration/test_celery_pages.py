"""With Redis, the pages' background callbacks run on Celery workers through
Dash's CeleryManager: the web app and ``dashapp.worker`` name the same tasks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dash import CeleryManager, DiskcacheManager

from dashapp import create_app
from devtools.servers import REPO_ROOT, RedisServer
from tests.support.settings import app_settings

LIST_TASKS = """
import json
import dashapp.worker as worker
print(json.dumps(sorted(name for name in worker.app.tasks if name.startswith("background_callback_"))))
"""


def test_page_jobs_run_on_celery_with_redis_and_in_processes_without(redis_server: RedisServer,
                                                                     tmp_path: Path) -> None:
    local = create_app(app_settings(data_dir=tmp_path / "local"))
    assert isinstance(local._background_manager, DiskcacheManager)

    settings = app_settings(data_dir=tmp_path / "shared", redis_url=redis_server.url)
    web = create_app(settings)
    manager = web._background_manager
    assert isinstance(manager, CeleryManager)
    web_tasks = sorted(name for name in manager.handle.tasks if name.startswith("background_callback_"))
    assert web_tasks, "the pages register background callbacks (feature visualization)"

    env = {**os.environ, "DASHAPP_REDIS_URL": redis_server.url, "DASHAPP_DATA_DIR": str(tmp_path / "worker"),
           "DASHAPP_WEIGHTS": "random", "DASHAPP_DEVICE": "cpu"}
    result = subprocess.run([sys.executable, "-c", LIST_TASKS], cwd=REPO_ROOT, env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    worker_tasks = json.loads(result.stdout.strip().splitlines()[-1])
    # A task the web app sends is one the worker knows.
    assert worker_tasks == web_tasks
