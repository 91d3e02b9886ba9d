"""Fixtures shared by every suite: settings on a temporary data directory,
seeded random weights, no network.

``make_settings(**overrides)``, ``make_analyzer(**overrides)`` and
``make_app(**overrides)`` build them for a test (any scope: each call gets its
own data directory unless ``data_dir`` is given), so a test states only what
it changes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dash import Dash

from dashapp import create_app, i18n
from dashapp.analysis.models.registry import ModelRegistry
from dashapp.config.settings import Settings
from dashapp.service import Analyzer
from tests.support.settings import app_settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "assets" / "examples"


@pytest.fixture(autouse=True)
def default_language() -> Iterator[None]:
    """Each test starts in the default language: a request served in this
    thread by a test client sets the language for the rest of the thread."""
    with i18n.speaking(i18n.DEFAULT_LANGUAGE):
        yield


@pytest.fixture(scope="session")
def registry() -> ModelRegistry:
    """ResNet18 and AlexNet with seeded random weights, built once per session."""
    return ModelRegistry(("resnet18", "alexnet"), policy="random", seed=0, device="cpu")


@pytest.fixture(scope="session", autouse=True)
def weights_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One folder of shared weight files (DASHAPP_WEIGHTS_DIR) for every app
    the session starts, in this process or in a server or worker process
    (they take this process's environment): a data directory of its own each
    held 280 MB of the same ResNet18 and AlexNet weights, 3.8 GB in a run."""
    folder = tmp_path_factory.mktemp("weights")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DASHAPP_WEIGHTS_DIR", str(folder))
        yield folder


@pytest.fixture(scope="session")
def make_settings(tmp_path_factory: pytest.TempPathFactory, weights_dir: Path) -> Callable[..., Settings]:
    """Test settings (``tests/support/settings.py``: with the session's
    weights folder, which ``weights_dir`` has put in the environment) on a new
    data directory, with ``overrides``."""

    def make(**overrides: Any) -> Settings:
        if "data_dir" not in overrides:
            overrides["data_dir"] = tmp_path_factory.mktemp("app") / "data"
        return app_settings(**overrides)

    return make


@pytest.fixture(scope="session")
def make_analyzer(make_settings: Callable[..., Settings], registry: ModelRegistry) -> Callable[..., Analyzer]:
    """An Analyzer on ``make_settings(**overrides)`` and the session's seeded models."""

    def make(**overrides: Any) -> Analyzer:
        return Analyzer(make_settings(**overrides), registry=registry)

    return make


@pytest.fixture(scope="session")
def make_app(make_analyzer: Callable[..., Analyzer]) -> Callable[..., Dash]:
    """The whole app (``create_app``) on test settings with ``overrides`` and
    the session's seeded models; or on ``analyzer`` when a test needs its
    service too (then the analyzer's settings are the app's)."""

    def make(analyzer: Analyzer | None = None, **overrides: Any) -> Dash:
        if analyzer is not None and overrides:
            raise TypeError("make_app: give an analyzer or settings overrides, not both")
        service = analyzer if analyzer is not None else make_analyzer(**overrides)
        return create_app(service.settings, service)

    return make


@pytest.fixture
def settings(tmp_path: Path, make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(data_dir=tmp_path / "data")


@pytest.fixture
def analyzer(settings: Settings, registry: ModelRegistry) -> Iterator[object]:
    yield Analyzer(settings, registry=registry)


@pytest.fixture(scope="session")
def example_bytes() -> bytes:
    return (EXAMPLES / "chelsea.png").read_bytes()
