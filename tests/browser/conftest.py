"""Browser suite fixtures: the app on a loopback port, Debian's Chromium, and a
page that fails its test when the browser or the server reported an error.

Nothing is downloaded: Playwright drives /usr/bin/chromium, the app uses
seeded random weights, and the server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Error, Page, Response, expect, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from dashapp import create_app
from dashapp.config.settings import Settings

from .helpers import CHROMIUM, CHROMIUM_ARGS, TEST_TIMEOUT_S, TIMEOUT_MS, snap

__all__ = ["LiveServer", "snap"]

expect.set_options(timeout=TIMEOUT_MS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A browser test's own bound follows its waits' bound (TIMEOUT_MS, scaled
    with it), not the 300 s the rest of the suite has."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TEST_TIMEOUT_S))


@dataclass(frozen=True)
class LiveServer:
    url: str
    settings: Settings


@dataclass
class Problems:
    """Everything that went wrong while a test's page was open."""

    server_url: str
    items: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            location = message.location
            where = f" ({location.get('url', '')}:{location.get('lineNumber', '')})" if location else ""
            self.items.append(f"console error: {message.text}{where}")

    def on_page_error(self, error: Error) -> None:
        self.items.append(f"page error: {error.message}\n{error.stack or ''}".rstrip())

    def on_response(self, response: Response) -> None:
        if response.status >= 500 and response.url.startswith(self.server_url):
            self.items.append(f"server error: HTTP {response.status} for {response.request.method} {response.url}")


class _ErrorRecords(logging.Handler):
    """Collects ERROR log records from the app while a test runs: a page
    callback that fails is caught by the app and shown as a friendly message
    (HTTP 200), so the browser alone would not notice it."""

    def __init__(self, problems: Problems) -> None:
        super().__init__(level=logging.ERROR)
        self.problems = problems

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.problems.items.append(f"server log {record.levelname} {record.name}: {text}")


@pytest.fixture(scope="session")
def live_server(make_settings: Callable[..., Settings]) -> Iterator[LiveServer]:
    """The whole app (create_app) on a free loopback port, in a background thread."""
    # The app never reads ``port`` (only ``python -m dashapp`` does); the
    # real port is whichever one make_server binds below.
    settings = make_settings(port=0)
    app = create_app(settings)
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-suite-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", settings=settings)
    finally:
        server.shutdown()
        thread.join(timeout=30)
        server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (the suite never downloads a browser)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[tuple[BrowserContext, Problems]]:
    """A fresh browser context on the live server; every page opened in it is
    watched (context-level events cover pages a test opens itself)."""
    problems = Problems(server_url=live_server.url)
    ctx = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.on("console", problems.on_console)
    ctx.on("weberror", lambda web_error: problems.on_page_error(web_error.error))
    ctx.on("response", problems.on_response)
    handler = _ErrorRecords(problems)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield ctx, problems
    finally:
        ctx.close()
        root.removeHandler(handler)


@pytest.fixture
def page(context: tuple[BrowserContext, Problems]) -> Iterator[Page]:
    """A page of the live server; the test fails at teardown if the browser
    logged an error, a script threw, the server answered 5xx or logged an error.
    Nothing is allow-listed."""
    ctx, problems = context
    page = ctx.new_page()
    yield page
    if not page.is_closed():
        try:  # let responses already in flight arrive before judging
            page.wait_for_load_state("networkidle")
        except Error as exc:
            problems.items.append(f"the page did not settle after the test: {exc.message}")
    ctx.close()
    if problems.items:
        pytest.fail("the browser or the server reported problems:\n" + "\n".join(problems.items), pytrace=False)
