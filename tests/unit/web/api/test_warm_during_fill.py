"""In one worker process, an analysis the cache can answer is served while a
new image's forward pass is under way: it waits neither for that pass nor for
the fill gate (issue 26, "Under load")."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from dash import Dash, html

from dashapp.analysis.models.capture import Capture, capture
from dashapp.service import Analyzer
from dashapp.web.api import routes as api
from devtools.servers import random_png

WAIT_S = 60.0  # a bound on waiting for a condition, never a measure of speed


class HeldCapture:
    """The real forward pass, held at its start until released."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.finished = threading.Event()

    def __call__(self, model: Any, image: Any) -> Capture:
        self.started.set()
        assert self.release.wait(WAIT_S)
        try:
            return capture(model, image)
        finally:
            self.finished.set()


@pytest.fixture()
def app(analyzer: Analyzer) -> Dash:
    app = Dash(__name__, serve_locally=True)
    app.layout = html.Div("page")
    api.install(app.server, analyzer)
    return app


def upload(app: Dash, data: bytes) -> str:
    answer = app.server.test_client().post("/api/images", data=data, content_type="application/octet-stream")
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return str(answer.get_json()["sha256"])


def test_a_warm_analysis_is_answered_while_a_new_image_computes(app: Dash, analyzer: Analyzer) -> None:
    warm = upload(app, random_png(1))
    client = app.server.test_client()
    assert client.get(f"/api/analysis?image={warm}&layer=conv1").status_code == 200  # filled, stored
    held = HeldCapture()
    analyzer.activations._compute = held
    new = upload(app, random_png(2))
    answers: dict[str, Any] = {}

    def analyse_new() -> None:
        answers["new"] = app.server.test_client().get(f"/api/analysis?image={new}&layer=layer1.0.conv1")

    thread = threading.Thread(target=analyse_new, daemon=True)
    thread.start()
    assert held.started.wait(WAIT_S)

    def analyse_warm() -> None:
        answers["warm"] = app.server.test_client().get(f"/api/analysis?image={warm}&layer=layer2.0.conv1&n=3")

    reader = threading.Thread(target=analyse_warm, daemon=True)
    reader.start()
    reader.join(WAIT_S)  # a request stuck behind the fill would still be waiting here
    assert "warm" in answers and answers["warm"].status_code == 200
    assert len(answers["warm"].get_json()["ranking"]["filters"]) == 3
    assert not held.finished.is_set() and thread.is_alive()  # the new image's pass had not even begun
    held.release.set()
    thread.join(WAIT_S)
    assert answers["new"].status_code == 200 and answers["new"].get_json()["image"]["sha256"] == new
