"""A gunicorn worker's numeric libraries use DASHAPP_COMPUTE_THREADS threads per
operation (dashapp/web/threads.py), set by dashapp.wsgi before the app is built."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import dashapp
from dashapp.web import startup, threads

REPO = Path(__file__).resolve().parents[3]

# A fresh interpreter: the limit is process-wide, and this one's tests keep theirs.
REPORT = r"""
import json, sys
import numpy, torch
from threadpoolctl import threadpool_info
from dashapp.web import threads
before = torch.get_num_threads()
threads.limit(int(sys.argv[1]))
pools = {info["internal_api"]: info["num_threads"] for info in threadpool_info()}
print(json.dumps({"before": before, "torch": torch.get_num_threads(), "pools": pools}))
"""


@pytest.mark.parametrize("count", [1, 3])
def test_limit_sets_torch_and_every_blas_and_openmp_pool(count: int) -> None:
    done = subprocess.run([sys.executable, "-c", REPORT, str(count)], cwd=REPO, capture_output=True, text=True,
                          timeout=120, check=True)
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["torch"] == count
    assert "openblas" in answer["pools"]  # numpy's BLAS is among those limited
    assert set(answer["pools"].values()) == {count}


def test_the_gunicorn_entry_point_limits_threads_before_building_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, Any]] = []

    class FakeApp:
        server = object()

    def create_app(settings: Any) -> FakeApp:
        calls.append(("create_app", settings.compute_threads))
        return FakeApp()

    monkeypatch.setenv("DASHAPP_COMPUTE_THREADS", "3")
    monkeypatch.setattr(dashapp, "create_app", create_app)
    monkeypatch.setattr(threads, "limit", lambda count: calls.append(("limit", count)))
    monkeypatch.setattr(startup, "set_up_before_serving", lambda app: calls.append(("set up", type(app).__name__)))
    monkeypatch.delitem(sys.modules, "dashapp.wsgi", raising=False)
    wsgi = importlib.import_module("dashapp.wsgi")
    try:
        assert calls == [("limit", 3), ("create_app", 3), ("set up", "FakeApp")]
        assert wsgi.server is FakeApp.server
    finally:
        sys.modules.pop("dashapp.wsgi", None)
