"""With DASHAPP_AUTH on, one user may have DASHAPP_FEATUREVIS_PER_USER of a
worker's feature visualization jobs (one more: 429, "try again"); others
still start theirs, and joining a job already under way is no new job.
Through the real Flask app with two users; the jobs are held at their start
so the count does not depend on the machine's speed."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from dash import Dash

from dashapp.service.featurevis import FeatureVisJobs

ALICE, BOB = ("alice", "alice's long password"), ("bob", "bob's long password too")
QUERY = "/api/featurevis?model=resnet18&layer=layer1.0.conv1&steps=4&size=32&filter="


def basic(user: tuple[str, str]) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()}


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    release = threading.Event()
    monkeypatch.setattr(FeatureVisJobs, "_background", lambda self, request: release.wait(60))
    yield release
    release.set()


def test_a_user_past_their_share_of_feature_visualizations_is_told_to_try_again(
        make_app: Callable[..., Dash], held: threading.Event) -> None:
    app = make_app(auth="basic", auth_users=(ALICE, BOB), models=("resnet18",), featurevis_queue=4)
    client: Any = app.server.test_client()
    assert client.post(QUERY + "0", headers=basic(ALICE)).status_code == 202
    assert client.post(QUERY + "0", headers=basic(ALICE)).status_code == 202  # the same job: joined
    refused = client.post(QUERY + "1", headers=basic(ALICE))
    assert refused.status_code == 429 and "try again" in refused.json["error"]
    assert client.post(QUERY + "1", headers=basic(BOB)).status_code == 202


def test_without_auth_only_the_workers_queue_bounds_them(make_app: Callable[..., Dash],
                                                         held: threading.Event) -> None:
    client: Any = make_app(models=("resnet18",), featurevis_queue=2).server.test_client()
    assert [client.post(QUERY + str(n)).status_code for n in range(3)] == [202, 202, 429]
