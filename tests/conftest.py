"""Fixtures shared by every suite: settings on a temporary data directory,
seeded random weights, no network."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dashapp import i18n
from dashapp.analysis.models.registry import ModelRegistry
from dashapp.config.settings import Settings

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


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", weights="random", device="cpu")


@pytest.fixture
def analyzer(settings: Settings, registry: ModelRegistry) -> Iterator[object]:
    from dashapp.service import Analyzer

    yield Analyzer(settings, registry=registry)


@pytest.fixture(scope="session")
def example_bytes() -> bytes:
    return (EXAMPLES / "chelsea.png").read_bytes()
