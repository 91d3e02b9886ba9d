"""Another site's page cannot change anything here (issue 11, finding 8).

Browsers attach cookies and HTTP Basic credentials to requests that foreign
pages make, and say where those come from (``Origin``, ``Sec-Fetch-Site``).
A state-changing request from another site is refused with a 403 JSON error;
the app's own pages (same origin) and scripts (no such headers) are served.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dash import Dash

from devtools.servers import random_png

USER, PASSWORD = "alice", "pw"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
SAME = "http://localhost"  # the test client's host

CALLBACK_BODY = {
    "output": "weights-banner.children",
    "outputs": {"id": "weights-banner", "property": "children"},
    "inputs": [{"id": "ready-state", "property": "data", "value": {"model": "resnet18"}}],
    "changedPropIds": ["ready-state.data"],
    "state": [],
}

FOREIGN = [
    pytest.param({"Origin": "https://evil.example"}, id="other-origin"),
    pytest.param({"Origin": "http://localhost.evil.example"}, id="suffixed-host"),
    pytest.param({"Origin": "http://localhost:8051"}, id="other-port"),
    pytest.param({"Origin": "null"}, id="null-origin"),
    pytest.param({"Sec-Fetch-Site": "cross-site"}, id="sec-fetch-cross-site"),
    pytest.param({"Origin": SAME, "Sec-Fetch-Site": "cross-site"}, id="same-origin-but-cross-site"),
]
OWN = [
    pytest.param({}, id="script-no-headers"),
    pytest.param({"Origin": SAME, "Sec-Fetch-Site": "same-origin"}, id="own-page"),
    pytest.param({"Origin": "http://LOCALHOST:80"}, id="own-origin-explicit-port"),
    pytest.param({"Sec-Fetch-Site": "none"}, id="typed-by-the-user"),
]


@pytest.fixture(scope="module")
def app(make_app: Callable[..., Dash]) -> Dash:
    return make_app(auth="basic", auth_users=((USER, PASSWORD),))


def stored(app: Dash) -> list[Path]:
    return sorted(app.server.extensions["dashapp.analyzer"].settings.images_dir.rglob("*.*"))


def upload(app: Dash, headers: dict[str, str], seed: int) -> Any:
    return app.server.test_client().post("/api/images", data={"file": (io.BytesIO(random_png(seed)), "x.png")},
                                         content_type="multipart/form-data", headers={**AUTH, **headers})


@pytest.mark.parametrize("headers", FOREIGN)
def test_cross_site_upload_is_refused_and_stores_nothing(app: Dash, headers: dict[str, str]) -> None:
    before = stored(app)
    response = upload(app, headers, 811)
    assert response.status_code == 403, response.get_data(as_text=True)[:200]
    assert "Cross-site" in response.get_json()["error"]
    assert stored(app) == before


@pytest.mark.parametrize("headers", FOREIGN)
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_other_state_changing_methods_are_refused(app: Dash, headers: dict[str, str], method: str) -> None:
    response = app.server.test_client().open("/api/images", method=method, headers={**AUTH, **headers})
    assert response.status_code == 403 and response.get_json()["error"]


@pytest.mark.parametrize("headers", FOREIGN)
def test_cross_site_callback_is_refused(app: Dash, headers: dict[str, str]) -> None:
    response = app.server.test_client().post("/_dash-update-component", json=CALLBACK_BODY,
                                             headers={**AUTH, **headers})
    assert response.status_code == 403 and response.get_json()["error"]


@pytest.mark.parametrize("headers", OWN)
def test_own_pages_and_scripts_are_served(app: Dash, headers: dict[str, str]) -> None:
    seed = 820 + len(stored(app))
    assert upload(app, headers, seed).status_code == 201
    callback = app.server.test_client().post("/_dash-update-component", json=CALLBACK_BODY,
                                             headers={**AUTH, **headers})
    assert callback.status_code == 200


@pytest.mark.parametrize("headers", FOREIGN)
def test_reading_stays_open_to_links_from_elsewhere(app: Dash, headers: dict[str, str]) -> None:
    # A link from another site must still open the app (GET changes nothing).
    assert app.server.test_client().get("/", headers={**AUTH, **headers}).status_code == 200
    assert app.server.test_client().get("/api/models", headers={**AUTH, **headers}).status_code == 200
