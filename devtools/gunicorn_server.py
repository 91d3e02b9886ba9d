"""The app under gunicorn on loopback, exactly as in production (no in-process test client).

Which worker answered a request is read from gunicorn's access log, whose
format records the worker pid next to a probe id the client sends in a
header: the app itself needs no worker id.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests

from .processes import LIVE, REPO_ROOT, ServerError, concurrently, free_port, port_free, tail, terminate, wait_for

# Each gunicorn worker imports torch and builds the app; on a 2-core runner two
# workers booting at once take ~30 s, so readiness gets a generous deadline.
GUNICORN_READY_S = 90.0
STOP_S = 35.0  # gunicorn's default graceful timeout (30 s) plus a margin

PROBE_HEADER = "X-Probe"
# One parseable line per request. %(p)s is the pid of the worker that answered
# ("<1234>"); {x-probe}i is the request header the client set.
ACCESS_FORMAT = 'ACCESS pid=%(p)s probe=%({x-probe}i)s status=%(s)s method=%(m)s path=%(U)s ms=%(M)s'
ACCESS_LINE = re.compile(
    r"ACCESS pid=<(?P<pid>\d+)> probe=(?P<probe>\S+) status=(?P<status>\d+) method=(?P<method>\S+) "
    r"path=(?P<path>\S*) ms=(?P<ms>\d+)"
)


@dataclass(frozen=True)
class Access:
    pid: int
    probe: str
    status: int
    method: str
    path: str
    ms: int


def _gunicorn_major() -> int:
    import gunicorn

    return int(gunicorn.version_info[0])


@dataclass(eq=False)
class GunicornServer:
    """``gunicorn dashapp.wsgi:server`` with N workers on 127.0.0.1."""

    env: dict[str, str] = field(repr=False)
    directory: Path
    workers: int = 2
    threads: int = 16  # as the Procfile
    port: int = field(default_factory=free_port)
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _log_handle: Any = field(default=None, repr=False)
    _session: requests.Session = field(default_factory=requests.Session, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.directory / "gunicorn.log"

    @property
    def access_log_path(self) -> Path:
        return self.directory / "access.log"

    def command(self) -> list[str]:
        command = [
            sys.executable, "-m", "gunicorn", "dashapp.wsgi:server",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers), "--threads", str(self.threads),
            "--timeout", "120", "--graceful-timeout", "30",
            "--access-logfile", str(self.access_log_path), "--access-logformat", ACCESS_FORMAT,
            "--error-logfile", "-",
        ]  # fmt: skip
        if _gunicorn_major() >= 27:
            # gunicorn 27's control socket defaults to one path per user
            # (~/.gunicorn/gunicorn.ctl); concurrent servers would steal it.
            command.append("--no-control-socket")
        return [*command, *self.extra_args]

    # -- life cycle

    def start(self) -> GunicornServer:
        if self.process is not None and self.process.poll() is None:
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        self._log_handle = self.log_path.open("ab")
        # The Procfile's malloc setting (docs/gunicorn-flags.md), unless the caller chose one.
        env = {"MALLOC_ARENA_MAX": "2", **self.env}
        self.process = subprocess.Popen(self.command(), cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                                        stdout=self._log_handle, stderr=subprocess.STDOUT, start_new_session=True)
        LIVE.add(self)
        try:
            self.wait_ready()
        except Exception as exc:
            log = self.logs(80)
            self.stop()
            raise ServerError(f"gunicorn did not become ready: {exc}\n--- gunicorn log tail ---\n{log}") from exc
        return self

    def _check_alive(self) -> None:
        if self.process is None or self.process.poll() is not None:
            code = None if self.process is None else self.process.returncode
            raise ServerError(f"gunicorn master exited with {code}")

    def wait_ready(self, timeout: float = GUNICORN_READY_S) -> None:
        """Ready means every worker answers /healthz, not just the first one."""
        deadline = time.monotonic() + timeout

        def healthy() -> bool:
            self._check_alive()
            try:
                return self._session.get(f"{self.url}/healthz", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        wait_for(healthy, timeout, f"{self.url}/healthz")
        wait_for(lambda: len(self.worker_pids()) == self.workers, max(1.0, deadline - time.monotonic()),
                 f"{self.workers} workers")
        self.worker_stats(timeout=max(1.0, deadline - time.monotonic()))

    def stop(self) -> None:
        # Close our keep-alive connection first: a worker finishing gracefully
        # waits for its open connections.
        self._session.close()
        self._session = requests.Session()
        if self.process is not None:
            terminate(self.process, timeout=STOP_S)
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None
        LIVE.discard(self)

    def restart(self) -> GunicornServer:
        """Stop the master and its workers, then start again with the same port,
        environment and data directory (a deploy, or a host reboot)."""
        self.stop()
        # Same port, so shared links keep their address; the previous master
        # is gone, and gunicorn sets SO_REUSEADDR.
        wait_for(lambda: port_free(self.port), 30, f"port {self.port} to be released")
        return self.start()

    # -- introspection

    @property
    def master_pid(self) -> int:
        self._check_alive()
        assert self.process is not None
        return self.process.pid

    def worker_pids(self) -> list[int]:
        """The master's live children: its workers (we start no other kind)."""
        try:
            children = psutil.Process(self.master_pid).children()
        except psutil.NoSuchProcess:
            return []
        return sorted(child.pid for child in children if child.is_running()
                      and child.status() != psutil.STATUS_ZOMBIE)

    def logs(self, lines: int = 60) -> str:
        return tail(self.log_path, lines)

    def log_size(self) -> int:
        """An offset for ``logs_since``: what the log holds now."""
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def logs_since(self, offset: int) -> str:
        with self.log_path.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode(errors="replace")

    def access_entries(self) -> list[Access]:
        try:
            text = self.access_log_path.read_text(errors="replace")
        except FileNotFoundError:
            return []
        entries = []
        for match in ACCESS_LINE.finditer(text):
            entries.append(Access(pid=int(match["pid"]), probe=match["probe"], status=int(match["status"]),
                                  method=match["method"], path=match["path"], ms=int(match["ms"])))
        return entries

    # -- requests that know which worker answered

    def request(self, method: str, path: str, session: requests.Session | None = None,
                **kwargs: Any) -> requests.Response:
        """A request tagged with a fresh probe id (see ``served_by``)."""
        headers = {**kwargs.pop("headers", {}), PROBE_HEADER: uuid.uuid4().hex}
        kwargs.setdefault("timeout", 120)
        return (session or requests).request(method, f"{self.url}{path}", headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def served_by_many(self, responses: Iterable[requests.Response], timeout: float = 10) -> list[int]:
        """The worker pid that answered each tagged response, in order.

        gunicorn writes the access line after the response is sent, so a
        line may trail its response by a moment: poll the log for it.
        """
        probes = [str(response.request.headers[PROBE_HEADER]) for response in responses]

        def found() -> dict[str, int] | None:
            seen = {entry.probe: entry.pid for entry in self.access_entries()}
            return seen if all(probe in seen for probe in probes) else None

        seen = wait_for(found, timeout, f"{len(probes)} access-log lines")
        return [seen[probe] for probe in probes]

    def served_by(self, response: requests.Response, timeout: float = 10) -> int:
        return self.served_by_many([response], timeout)[0]

    def _try_healthz(self) -> requests.Response | None:
        try:
            return self.get("/healthz", timeout=10)
        except requests.RequestException:  # a worker busy booting; the caller retries
            return None

    def worker_stats(self, timeout: float = 30, batch: int = 8) -> dict[int, dict[str, Any]]:
        """Each live worker's /healthz answer, keyed by pid.

        Which worker takes a connection is the kernel's choice, so send
        small concurrent batches of fresh connections until every worker
        has answered at least once (bounded by ``timeout``). The newest
        answer per worker wins.
        """
        deadline = time.monotonic() + timeout
        pids = set(self.worker_pids())
        answers: dict[int, dict[str, Any]] = {}
        while True:
            self._check_alive()
            responses = concurrently([self._try_healthz for _ in range(batch)])
            ok = [response for response in responses if response is not None and response.status_code == 200]
            for pid, response in zip(self.served_by_many(ok), ok, strict=True):
                answers[pid] = response.json()
            if pids <= answers.keys():
                return {pid: answers[pid] for pid in sorted(pids)}
            if time.monotonic() >= deadline:
                raise TimeoutError(f"only workers {sorted(answers)} of {sorted(pids)} answered /healthz")


def app_env(data_dir: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment for the app: seeded random weights, CPU, its own data."""
    merged = dict(os.environ)
    merged.update({
        "DASHAPP_WEIGHTS": "random",
        "DASHAPP_DEVICE": "cpu",  # the same numbers on every runner, GPU or not
        "DASHAPP_DATA_DIR": str(data_dir),
        "PYTHONUNBUFFERED": "1",
        "DASHAPP_HEALTHZ_DETAILS": "true",  # worker_stats reads each worker's counters
    })
    merged.update(env or {})
    return merged


def start_gunicorn(env: Mapping[str, str] | None = None, workers: int = 2, tmp_dir: Path | None = None,
                   threads: int = GunicornServer.threads, extra_args: tuple[str, ...] = ()) -> GunicornServer:
    """Run the app under gunicorn on a free loopback port and wait until every
    worker answers. ``DASHAPP_DATA_DIR`` defaults to ``tmp_dir/data``; ``env``
    overrides anything."""
    import tempfile

    directory = Path(tmp_dir) if tmp_dir is not None else Path(tempfile.mkdtemp(prefix="dashapp-gunicorn-"))
    server = GunicornServer(env=app_env(directory / "data", env), directory=directory, workers=workers,
                            threads=threads, extra_args=extra_args)
    return server.start()
