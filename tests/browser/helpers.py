"""Helpers for the browser suite: screenshots, Dash ids, URL state."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Browser, BrowserContext, Locator, Page, Request

from devtools.servers import GunicornServer, start_gunicorn

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
EXAMPLES = ROOT / "assets" / "examples"

# The one bound on every wait of the suite. Each wait is on a condition, never
# a sleep, so the bound only ends a hang and costs nothing when things go
# well: it is generous because the first analysis of a layer runs a CPU
# forward pass and the machine may be busy with other work (60 s was too
# short under load). A slow CI runner scales every wait at once with
# BROWSER_TIMEOUT_SCALE (e.g. 2).
TIMEOUT_SCALE = float(os.environ.get("BROWSER_TIMEOUT_SCALE", "1"))
TIMEOUT_MS = round(180_000 * TIMEOUT_SCALE)
# A job of many forward passes (a collection scan, feature visualizations).
JOB_TIMEOUT_MS = 3 * TIMEOUT_MS
# A whole browser test (pytest-timeout), in place of the suite's 300 s: room
# for a job's wait and a few others.
TEST_TIMEOUT_S = 5 * TIMEOUT_MS // 1000
# What each page draws last: walked.py (DRAWN), beside the pages walked.
SELECTED = "&filter=5&cls=1"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def snap(page: Page, name: str, full_page: bool = True) -> Path:
    """Save a full-page PNG to artifacts/screenshots/<name>.png (repo-root relative).

    ``full_page=False`` keeps the viewport as it is: a full-page capture
    resizes the window for a moment, Plotly redraws on resize and drops a
    hover, so a hover is shot as the viewport."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"screenshot name {name!r} must be a plain file name")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def dash_id(**parts: str) -> str:
    """The DOM id Dash gives a dict id: JSON with sorted keys, no spaces."""
    return json.dumps(parts, sort_keys=True, separators=(",", ":"))


def by_dash_id(page: Page, /, **parts: str) -> Locator:
    """Locator for the element whose id is the dict ``parts`` (an attribute
    selector, since a JSON id is not a valid CSS #id)."""
    return page.locator(f"[id='{dash_id(**parts)}']")


def hover_heatmap(page: Page, index: str) -> Locator:
    """Move the mouse onto the centre of heatmap ``index`` (from a little
    away, so plotly sees a move) and return its hover box."""
    plot = by_dash_id(page, index=index, type="fig").locator(".js-plotly-plot")
    box = plot.locator(".nsewdrag").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x - 20, y - 20)
    page.mouse.move(x, y, steps=5)
    return by_dash_id(page, index=index, type="fig-hover")


def js_dash_id(**parts: str) -> str:
    """A JavaScript string literal of a dict id, for ``document.getElementById``."""
    return json.dumps(dash_id(**parts))


def query_of(url: str) -> dict[str, str]:
    """The URL's query string as a flat dict (first value of each key)."""
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def path_of(url: str) -> str:
    return urlsplit(url).path


def search_of(url: str) -> str:
    return urlsplit(url).query


@dataclass
class FeatureVisSite:
    server: GunicornServer
    context: BrowserContext
    errors: list[str]  # the pages' console errors
    sha: str  # the cat photo, uploaded


@contextmanager
def featurevis_site(browser: Browser, tmp_path: Path, max_steps: int, max_size: int) -> Iterator[FeatureVisSite]:
    """Two gunicorn workers on random ResNet18 weights whose feature
    visualizations take ``max_steps`` steps at ``max_size`` px, the cat photo
    uploaded, and a browser context at 1400x900 collecting console errors.
    When the test's block ends well: no console error, no traceback in the
    server's log."""
    server = start_gunicorn({"DASHAPP_WEIGHTS": "random", "DASHAPP_MODELS": "resnet18",
                             "DASHAPP_FEATUREVIS_MAX_STEPS": str(max_steps),
                             "DASHAPP_FEATUREVIS_MAX_SIZE": str(max_size)},
                            workers=2, tmp_dir=tmp_path / "gunicorn")
    try:
        photo = (EXAMPLES / "chelsea.png").read_bytes()
        sha = server.post("/api/images", files={"file": ("chelsea.png", photo)}).json()["sha256"]
        context = browser.new_context(base_url=server.url, viewport={"width": 1400, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        context.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        yield FeatureVisSite(server, context, errors, sha)
        assert errors == []
        context.close()
        assert "Traceback" not in server.logs(600)
    finally:
        server.stop()


@contextmanager
def callbacks(page: Page) -> Iterator[list[str]]:
    """The "output" of every callback request made inside the block."""
    seen: list[str] = []

    def record(request: Request) -> None:
        if "/_dash-update-component" in request.url:
            seen.append(str(json.loads(request.post_data or "{}").get("output", "")))

    page.on("request", record)
    try:
        yield seen
    finally:
        page.remove_listener("request", record)
