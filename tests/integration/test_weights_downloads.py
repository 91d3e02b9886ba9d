"""Who may make the server download weights (issue 11, findings 1 and 9).

Only the server decides: enabled models, under a policy that wants pretrained
weights, at start-up. A forged callback request, for a model that is not
enabled or under ``DASHAPP_WEIGHTS=random``, must not reach the weights
mirror (a loopback server that records every request) nor leave a file. A
failed download is reported in plain words: no paths, no mirror URL, no
credentials in any answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import torchvision
from dash import Dash

from dashapp import create_app
from dashapp.config.settings import Settings
from tests.support import dash_harness as h
from tests.support.forge import post_callback
from tests.support.mirror import RecordingMirror

CHECKPOINT = "resnet18-f37072fd.pth"
NOT_ENABLED = "vit_h_14"  # the 2.4 GB checkpoint of the review


@pytest.fixture
def torch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch"


@pytest.fixture
def mirror() -> Iterator[RecordingMirror]:
    server = RecordingMirror(status=404)
    try:
        yield server
    finally:
        server.stop()


def hub_files(torch_home: Path) -> list[str]:
    return sorted(str(p.relative_to(torch_home)) for p in torch_home.rglob("*") if p.is_file())


def model_callbacks(app: Dash) -> list[str]:
    """Outputs of every server callback fed by state that carries a model name."""
    # load-request.data: the input of the download job that clients could once feed.
    carriers = {"view-state.data", "ready-state.data", "model-state.data", "load-poll.n_intervals",
                "load-request.data", "ctl-model.value"}
    found = []
    for key, spec in app.callback_map.items():
        if "callback" in spec and carriers & {f"{i['id']}.{i['property']}" for i in spec["inputs"]}:
            found.append(key.strip(".").split("...")[0])
    return found


def forge_everything(app: Dash, model: str) -> None:
    view = {**h.sync_state(app, "")["view-state.data"], "model": model}
    forged = {"view-state.data": view, "ready-state.data": view, "model-state.data": view, "load-poll.n_intervals": 1,
              "ctl-model.value": model, "load-request.data": {"model": model, "view": view}}
    outputs = model_callbacks(app)
    assert any(o.startswith("ready-state.data@") for o in outputs), outputs  # the progress poll is among them
    for output in outputs:
        post_callback(app, output, forged)


@pytest.mark.parametrize(("policy", "model"), [
    pytest.param("auto", NOT_ENABLED, id="auto-model-not-enabled"),
    pytest.param("pretrained", NOT_ENABLED, id="pretrained-model-not-enabled"),
    pytest.param("random", NOT_ENABLED, id="random-model-not-enabled"),
    pytest.param("random", "resnet18", id="random-enabled-model"),
])
def test_forged_callbacks_download_nothing(tmp_path: Path, torch_home: Path, mirror: RecordingMirror,
                                           policy: str, model: str) -> None:
    if policy != "random":  # the enabled model's weights are there: start-up has nothing to fetch
        (torch_home / "hub" / "checkpoints").mkdir(parents=True)
        torch.manual_seed(5)
        torch.save(torchvision.models.resnet18().state_dict(), torch_home / "hub" / "checkpoints" / CHECKPOINT)
    before = hub_files(torch_home)
    settings = Settings(data_dir=tmp_path / "data", weights=policy, device="cpu", models=("resnet18",),
                        weights_mirror=mirror.url())
    app = create_app(settings)
    forge_everything(app, model)
    # The job of the download callback has answered (post_callback waited): nothing was fetched.
    assert mirror.requests() == []
    assert hub_files(torch_home) == before


def test_failed_download_is_told_plainly_and_credentials_never_leave(
        tmp_path: Path, torch_home: Path, caplog: pytest.LogCaptureFixture) -> None:
    password = "pa55-w0rd-in-the-mirror-url"
    failing = RecordingMirror(status=503)
    try:
        settings = Settings(data_dir=tmp_path / "data", weights="auto", device="cpu", models=("resnet18",),
                            weights_mirror=failing.url(f"team:{password}"))
        app = create_app(settings)
        client = app.server.test_client()
        models = client.get("/api/models")
        view = h.sync_state(app, "")["view-state.data"]
        answers = [models.get_data(as_text=True),
                   post_callback(app, "weights-banner.children", {"model-state.data": view}).get_data(as_text=True),
                   post_callback(app, "ready-state.data@", {"load-poll.n_intervals": 1, "view-state.data": view})
                   .get_data(as_text=True)]
        # The start-up download was tried, once, with the credentials sent as HTTP Basic.
        seen = failing.requests()
        assert [s.path for s in seen] == [f"/weights/{CHECKPOINT}"]
        assert seen[0].authorization and seen[0].authorization.startswith("Basic ")
    finally:
        failing.stop()
    assert models.status_code == 200
    reason = models.get_json()["models"][0]["weights"]["reason"]
    assert CHECKPOINT in h.assert_clear_message(reason)  # says which file, in plain words
    for text in answers:
        for secret in (password, "team:", str(failing.port), str(tmp_path), "/hub/checkpoints"):
            assert secret not in text, (secret, text[:400])
    assert CHECKPOINT in answers[1]  # the banner says why the weights are untrained
    # The operator finds the details in the log, with the password masked.
    assert f"127.0.0.1:{failing.port}" in caplog.text and "team:***@" in caplog.text
    assert password not in caplog.text
