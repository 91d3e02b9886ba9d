"""A model's first load under gunicorn: each worker starts the download of the
missing weights when it boots (one of them fetches the file, under a lock),
the page shows its progress through a background job every worker shares, and
then the real (here: test-written) weights."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import torch
import torchvision
from playwright.sync_api import Browser, expect

from devtools.servers import start_gunicorn

from .helpers import CHROMIUM, TIMEOUT_MS, snap

pytestmark = pytest.mark.browser

CHECKPOINT = "resnet18-f37072fd.pth"  # the file name torchvision's loader expects


class Mirror:
    """A loopback HTTP server holding a checkpoint, as a team's weights mirror would."""

    def __init__(self, directory: Path) -> None:
        self.requests: list[str] = []
        self.release = threading.Event()  # answers wait for it: the test sees the download under way
        mirror = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                mirror.requests.append(self.path)
                mirror.release.wait(120)
                super().do_GET()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(directory)))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[Mirror, Path]]:
    directory = tmp_path / "mirror"
    directory.mkdir()
    torch.manual_seed(2024)
    torch.save(torchvision.models.resnet18().state_dict(), directory / CHECKPOINT)
    server = Mirror(directory)
    try:
        yield server, directory / CHECKPOINT
    finally:
        server.close()


def test_first_load_shows_the_start_up_download_then_pretrained_weights(browser: Browser, mirror: tuple[Mirror, Path],
                                                           tmp_path: Path) -> None:
    assert CHROMIUM.exists()
    server, checkpoint = mirror
    torch_home = tmp_path / "torch"
    gunicorn = start_gunicorn(
        {"DASHAPP_WEIGHTS": "auto", "DASHAPP_MODELS": "resnet18", "DASHAPP_WEIGHTS_MIRROR": server.url,
         "TORCH_HOME": str(torch_home)},
        workers=2, tmp_dir=tmp_path / "gunicorn",
    )
    try:
        context = browser.new_context(base_url=gunicorn.url, viewport={"width": 1400, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        context.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        # Record whether the progress area was ever shown while the job ran.
        context.add_init_script("""
            window.__sawProgress = false;
            new MutationObserver(() => {
              const wrap = document.getElementById("load-progress-wrap");
              if (wrap && wrap.style.display === "block") { window.__sawProgress = true; }
            }).observe(document, {subtree: true, attributes: true, attributeFilter: ["style"], childList: true});
        """)
        page = context.new_page()
        page.goto("/")
        # The workers' start-up download is held by the mirror: the page shows its progress.
        expect(page.locator("#load-progress-wrap")).to_be_visible()
        expect(page.locator("#load-label")).to_contain_text("resnet18")
        snap(page, "20-weights-download-progress")
        server.release.set()
        expect(page.locator("#overview-table .ag-row")).to_have_count(6)  # 6 filters
        expect(page.locator("#untrained-banner")).to_have_count(0)
        assert page.evaluate("window.__sawProgress"), "the progress bar never showed while weights downloaded"
        snap(page, "21-pretrained-after-download")

        # Two workers booted, each wanting the file: it was fetched once, into
        # torch's hub cache, whole.
        assert server.requests == [f"/{CHECKPOINT}"]
        downloaded = torch_home / "hub" / "checkpoints" / CHECKPOINT
        assert downloaded.read_bytes() == checkpoint.read_bytes()
        # The prediction page carries no "meaningless" label with real weights.
        page.goto("/prediction")
        expect(page.locator("#prediction-chart .bars")).to_have_count(1)
        expect(page.locator(".meaningless")).to_have_count(0)
        assert errors == []
        context.close()
        assert "Traceback" not in gunicorn.logs(400)
    finally:
        gunicorn.stop()
