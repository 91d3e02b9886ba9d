"""The unit suite is the fast lane (``scripts/test --fast``): it starts no
browser, Redis, gunicorn or Celery process. A unit test that tries fails at
once with the program it tried to start; such a test belongs in
tests/integration or tests/browser."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

import pytest

# Programs (or python -m modules) that only the integration and browser suites start.
SERVERS = frozenset({"redis-server", "gunicorn", "celery", "chromium", "chromium-browser", "chromedriver",
                     "chrome", "headless_shell", "playwright"})


def server_in(args: Any) -> str | None:
    """The server program a command line would start, if any: the program
    itself, a ``-m`` module, or Playwright's driver anywhere in the line."""
    if isinstance(args, str | bytes):  # a shell line
        text = args.decode() if isinstance(args, bytes) else args
        words: list[str] = text.split()
    else:
        words = [os.fsdecode(word) for word in ([args] if isinstance(args, os.PathLike) else args)]
    for word in words:
        path = PurePath(word)
        if path.name in SERVERS or "playwright" in path.parts:
            return word
    return None


class _NoServers(subprocess.Popen[Any]):
    def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
        program = server_in(args)
        if program is not None:
            raise AssertionError(f"a unit test started {program!r}: move it to tests/integration or tests/browser")
        super().__init__(args, *rest, **kwargs)


@pytest.fixture(autouse=True, scope="package")
def no_server_processes() -> Iterator[None]:
    """For the unit package only (its sub-packages included): the integration
    and browser suites, run in the same session, start servers."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess, "Popen", _NoServers)
        yield

