"""Real ``celery -A dashapp.worker worker`` processes on loopback, for the
integration tests and the scan benchmark's scale-out figure.

Each is started with the Procfile's own ``worker:`` command line (the default
prefork pool, the inherited environment: no ``OMP_NUM_THREADS``), plus only
what a test needs to tell workers apart and read them: a host name, a log
file, and no gossip or mingle between test workers."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .servers import LIVE, REPO_ROOT, tail, wait_for

READY_S = 120.0
PROCFILE_VARIABLE = re.compile(r"\$\{(?P<name>\w+):-(?P<default>[^}]*)\}")


def procfile_worker(env: dict[str, str]) -> list[str]:
    """The Procfile's ``worker:`` command, its ``${NAME:-default}`` filled from ``env``."""
    for line in (REPO_ROOT / "Procfile").read_text().splitlines():
        if line.startswith("worker:"):
            text = PROCFILE_VARIABLE.sub(lambda m: env.get(m["name"]) or m["default"], line.removeprefix("worker:"))
            words = shlex.split(text)
            # The virtual environment's own celery, as a deployment's PATH would find it.
            return [str(Path(sys.executable).parent / words[0]), *words[1:]]
    raise RuntimeError("the Procfile has no worker process")
TASK_LINE = re.compile(r"Task dashapp\.scan_shard\[(?P<id>[0-9a-f-]+)\] (?P<event>received|succeeded)")


@dataclass(eq=False)
class CeleryWorker:
    name: str
    env: dict[str, str] = field(repr=False)
    directory: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def log_path(self) -> Path:
        return self.directory / f"{self.name}.log"

    def start(self) -> CeleryWorker:
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [*procfile_worker(self.env), "--hostname", f"{self.name}@%h", "--without-gossip",
                   "--without-mingle", "--logfile", str(self.log_path)]
        self.process = subprocess.Popen(command, cwd=REPO_ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        LIVE.add(self)
        wait_for(self._ready, READY_S, f"celery worker {self.name}", interval=0.2)
        return self

    def _ready(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"celery worker {self.name} exited:\n{self.logs()}")
        return " ready." in self.logs(400)

    def tasks(self, event: str) -> set[str]:
        return {m["id"] for m in TASK_LINE.finditer(self.logs(100_000)) if m["event"] == event}

    def running_task(self) -> str | None:
        """A shard task this worker received and has not finished (one pool process: the one it runs)."""
        busy = self.tasks("received") - self.tasks("succeeded")
        return next(iter(busy), None)

    def kill(self) -> None:
        """SIGKILL the worker and anything it started: a host that dies, no goodbye."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        LIVE.discard(self)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        LIVE.discard(self)

    def logs(self, lines: int = 60) -> str:
        return tail(self.log_path, lines)


def worker_env(redis_url: str, data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, Any]:
    env = dict(os.environ)
    env.update({
        "DASHAPP_REDIS_URL": redis_url,
        "DASHAPP_WEIGHTS": "random",
        "DASHAPP_DEVICE": "cpu",
        "DASHAPP_MODELS": "resnet18",
        "DASHAPP_DATA_DIR": str(data_dir),
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra or {})
    return env


def start_workers(count: int, env: dict[str, str], directory: Path) -> list[CeleryWorker]:
    workers = []
    try:
        for i in range(count):
            workers.append(CeleryWorker(f"w{i + 1}", env, directory).start())
    except Exception:
        for worker in workers:
            worker.stop()
        raise
    return workers
