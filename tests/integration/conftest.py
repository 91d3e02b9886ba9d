"""Fixtures for tests against real servers: a private redis-server for the
session, and gunicorn instances built by the test modules from ``gunicorn_factory``."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Mapping
from pathlib import Path

import pytest

from devtools.servers import LIVE, GunicornServer, RedisServer, start_gunicorn, start_redis

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server on a private port for the whole session. Tests that
    stop it must start it again (``finally``) before they return."""
    server = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


GunicornFactory = Callable[..., GunicornServer]


@pytest.fixture(scope="module")
def gunicorn_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornFactory]:
    """Start gunicorn servers for one module; all are stopped at its end."""
    started: list[GunicornServer] = []

    def start(env: Mapping[str, str] | None = None, workers: int = 2) -> GunicornServer:
        server = start_gunicorn(env, workers=workers, tmp_dir=tmp_path_factory.mktemp("gunicorn"))
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture(scope="session")
def example_images() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(EXAMPLES.iterdir())
            if path.suffix.lower() in (".png", ".jpg", ".jpeg")}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport,
                                                                                           pytest.TestReport]:
    """On a failure, attach the logs of the servers still running: the
    server side of an integration failure is usually the interesting part."""
    report = yield
    if report.failed:
        for server in list(LIVE):
            name = type(server).__name__
            report.sections.append((f"{name} log tail", server.logs()))
    return report
