"""With Redis, the Feature visualization page's job runs on the Procfile's
Celery worker (the default prefork pool, the inherited environment) and
finishes: a pool process forked from a worker that had traced its models
used to hang at its first forward pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from devtools.celery_workers import start_workers, worker_env
from devtools.servers import start_gunicorn, start_redis

from .helpers import EXAMPLES, JOB_TIMEOUT_MS, TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SMALL_JOB = {"DASHAPP_MODELS": "resnet18", "DASHAPP_FEATUREVIS_MAX_STEPS": "16", "DASHAPP_FEATUREVIS_MAX_SIZE": "48"}


def test_a_page_job_finishes_on_the_procfile_worker(browser: Browser, tmp_path: Path) -> None:
    redis = start_redis(tmp_path / "redis")
    [worker] = start_workers(1, worker_env(redis.url, tmp_path / "data", SMALL_JOB), tmp_path / "workers")
    gunicorn = start_gunicorn({"DASHAPP_REDIS_URL": redis.url, "DASHAPP_WEIGHTS": "random", **SMALL_JOB},
                              workers=1, tmp_dir=tmp_path / "gunicorn")
    try:
        sha = gunicorn.post("/api/images", files={"file": ("chelsea.png", (EXAMPLES / "chelsea.png").read_bytes())}
                            ).json()["sha256"]
        context = browser.new_context(base_url=gunicorn.url, viewport={"width": 1400, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.goto(f"/featurevis?image={sha}&model=resnet18&layer=layer1.0.conv1&n=1")
        expect(page.locator(".fv-empty")).to_have_count(1)
        page.click("#fv-go")
        # Computed on the worker (the web app sends it there), drawn on the page.
        expect(page.locator(".fv-img")).to_have_count(1, timeout=JOB_TIMEOUT_MS)
        expect(page.locator(".fv-img")).to_have_js_property("naturalWidth", 48)
        assert "background_callback" in worker.logs(400), "the job did not run on the Celery worker"
        context.close()
    finally:
        gunicorn.stop()
        worker.stop()
        redis.stop()
