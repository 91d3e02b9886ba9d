"""DASHAPP_MODELS_FILE: the team's models read from TOML, and the whole app
started with one (layers, predictions with the team's names, class evidence,
/api/models with the source)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from dashapp import create_app
from dashapp.config.models_file import read_models_file
from dashapp.config.settings import Settings, SettingsError, load_settings
from dashapp.state.schema import StateError, ViewState
from dashapp.state.url import parse_state, strict_state
from tests.unit.analysis.models.test_checkpoints import CLASSES, write_team_checkpoint


def models_toml(folder: Path, body: str) -> Path:
    path = folder / "models.toml"
    path.write_text(body)
    return path


TEAM = """
[[model]]
name = "birds"
architecture = "resnet18"
checkpoint = "team1.pt"
classes = "classes.txt"
mean = [0.5, 0.5, 0.5]
std = [0.25, 0.25, 0.25]
"""


def test_the_file_is_read_with_paths_relative_to_it(tmp_path: Path) -> None:
    (spec,) = read_models_file(models_toml(tmp_path, TEAM))
    assert spec.name == "birds" and spec.architecture == "resnet18" and spec.input_size == 224
    assert spec.checkpoint == tmp_path / "team1.pt" and spec.classes == tmp_path / "classes.txt"
    assert spec.mean == (0.5, 0.5, 0.5) and spec.std == (0.25, 0.25, 0.25)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("[[model]]\nname = 'a'\narchitecture = 'resnet18'\ncheckpoint = 'x.pt'\n", "classes is required"),
        (TEAM.replace("std = [0.25, 0.25, 0.25]", "std = [0.25, 0, 0.25]"), "std must be three positive"),
        (TEAM + "colour = 'red'\n", "unknown key(s) colour"),
        (TEAM + TEAM, "birds appear more than once"),
        ("model = [", "not valid TOML"),
        ("", "[[model]] table"),
    ],
)
def test_a_bad_file_is_a_settings_error_naming_the_problem(tmp_path: Path, body: str, words: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({"DASHAPP_MODELS_FILE": str(models_toml(tmp_path, body))})
    assert words in str(info.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"DASHAPP_MODELS_FILE=.*nowhere\.toml' does not exist"):
        load_settings({"DASHAPP_MODELS_FILE": str(tmp_path / "nowhere.toml")})


@pytest.mark.slow
def test_the_app_serves_a_team_model_like_a_stock_one(tmp_path: Path, example_bytes: bytes,
                                                       make_settings: Callable[..., Settings]) -> None:
    write_team_checkpoint(tmp_path, seed=1)
    settings = make_settings(models=("alexnet",), models_file=models_toml(tmp_path, TEAM))
    app = create_app(settings)
    client = app.server.test_client()

    models = {m["name"]: m for m in client.get("/api/models").get_json()["models"]}
    assert models["birds"]["source"] == "team file" and models["alexnet"]["source"] == "torchvision"
    assert models["birds"]["classes"] == 10 and models["birds"]["weights"]["tag"].startswith("sha256-")
    assert models["birds"]["normalization"] == {"mean": [0.5] * 3, "std": [0.25] * 3}
    layers = [layer["name"] for layer in models["birds"]["layers"]]
    assert layers[0] == "conv1" and "layer4.1.conv2" in layers and len(layers) == 20

    sha = client.post("/api/images", data=example_bytes, content_type="image/png").get_json()["sha256"]
    answer = client.get(f"/api/analysis?image={sha}&model=birds&layer=layer3.0.conv1").get_json()
    labels = [p["label"] for p in answer["prediction"]]
    assert len(labels) == 5 and set(labels) <= set(CLASSES)
    probabilities = [p["probability"] for p in answer["prediction"]]
    assert probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1 + 1e-6
    assert answer["weights"]["tag"] == models["birds"]["weights"]["tag"]

    service = app.server.extensions["dashapp.analyzer"]
    view = service.open(ViewState(image=sha, model="birds", layer="layer4.1.conv2"))
    cam = view.evidence(CLASSES.index(labels[0])).map  # at the default evidence layer, layer4
    assert cam.shape == (7, 7) and np.isfinite(cam).all() and cam.max() > 0

    # The state's class range follows the model: 0-9 for the team's head, 0-999 for ImageNet.
    counts = service.models.class_counts()
    catalog = service.models.state_catalog()
    assert counts == {"alexnet": 1000, "birds": 10}
    assert strict_state({"model": "birds", "cls": 9}, catalog, classes=counts).cls == 9
    with pytest.raises(StateError, match="from 0 to 9"):
        strict_state({"model": "birds", "cls": 10}, catalog, classes=counts)
    assert strict_state({"model": "alexnet", "cls": 999}, catalog, classes=counts).cls == 999
    state, messages = parse_state("?model=birds&cls=500", catalog, classes=counts)
    assert state.cls is None and messages
