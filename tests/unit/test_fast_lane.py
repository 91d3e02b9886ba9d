"""The fast lane's guard (tests/unit/conftest.py) knows a server when it sees one."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.unit.conftest import server_in


def test_the_guard_names_server_programs() -> None:
    assert server_in(["/usr/bin/redis-server", "--port", "0"]) == "/usr/bin/redis-server"
    assert server_in([sys.executable, "-m", "celery", "-A", "dashapp.worker", "worker"]) == "celery"
    assert server_in("gunicorn -c conf.py dashapp.wsgi:server") == "gunicorn"
    assert server_in(["/x/site-packages/playwright/driver/node", "cli.js", "run-driver"]) is not None
    assert server_in([sys.executable, "-c", "print('celery')"]) is None


def test_a_unit_test_cannot_start_a_server() -> None:
    with pytest.raises(AssertionError, match="redis-server"):
        subprocess.Popen(["redis-server", "--port", "0"])
    # Any other program still runs.
    assert subprocess.run([sys.executable, "-c", "print(1)"], capture_output=True, check=True).stdout == b"1\n"
