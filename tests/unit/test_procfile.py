"""The gunicorn the tests and benchmarks start is the Procfile's."""

from __future__ import annotations

import shlex

from devtools.servers import REPO_ROOT, GunicornServer


def procfile_web() -> list[str]:
    for line in (REPO_ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return shlex.split(line.removeprefix("web:"))
    raise AssertionError("the Procfile has no web process")


def flag(words: list[str], name: str) -> str:
    return words[words.index(name) + 1]


def test_the_test_servers_thread_count_is_the_procfiles() -> None:
    # A worker thread waits out a new image's turn at the forward pass
    # (ActivationStore's fills_at_once); with too few threads, requests the
    # cache answers in milliseconds queue behind those waits.
    web = procfile_web()
    server = GunicornServer(env={}, directory=REPO_ROOT)
    assert flag(web, "--threads") == flag(server.command(), "--threads") == "16"
    assert flag(web, "--timeout") == flag(server.command(), "--timeout")
