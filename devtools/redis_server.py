"""A private redis-server on loopback: non-persistent, on a free port, with its own directory."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .processes import LIVE, ServerError, free_port, tail, terminate, wait_for

REDIS_SERVER = "redis-server"
REDIS_READY_S = 15.0


@dataclass(eq=False)
class RedisServer:
    """A private, non-persistent redis-server; ``stop``/``start`` keep the port."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    extra_args: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log_path(self) -> Path:
        return self.directory / "redis.log"

    def client(self) -> Any:
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2, socket_connect_timeout=2)

    def ping(self) -> bool:
        try:
            return bool(self.client().ping())
        except Exception:  # not up yet (refused, loading, ...)
            return False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> RedisServer:
        if self.running:
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [
            REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(self.directory), "--maxmemory", "256mb", "--maxmemory-policy", "allkeys-lru",
            "--logfile", str(self.log_path), *self.extra_args,
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        LIVE.add(self)

        def up() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise ServerError(f"redis-server exited with {self.process.returncode}:\n{tail(self.log_path)}")
            return self.ping()

        try:
            wait_for(up, REDIS_READY_S, f"redis-server on port {self.port}")
        except TimeoutError as exc:
            self.stop()
            raise ServerError(f"{exc}\n{tail(self.log_path)}") from exc
        return self

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process, timeout=10)
        # Down means refusing connections, not just a dead pid.
        wait_for(lambda: not self.ping(), 10, f"redis on port {self.port} to refuse connections")
        LIVE.discard(self)

    def logs(self) -> str:
        return tail(self.log_path)


def start_redis(tmp_dir: Path, port: int | None = None) -> RedisServer:
    """Start ``redis-server`` on a free loopback port, storing nothing on disk."""
    server = RedisServer(directory=Path(tmp_dir), port=port or free_port())
    return server.start()
