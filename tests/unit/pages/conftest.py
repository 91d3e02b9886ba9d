"""One app for the page tests, on the session's seeded models."""

from __future__ import annotations

import pytest
from dash import Dash

from dashapp import create_app
from dashapp.analysis.models.registry import ModelRegistry
from dashapp.config.settings import Settings
from dashapp.service import Analyzer


@pytest.fixture(scope="package")
def app(tmp_path_factory: pytest.TempPathFactory, registry: ModelRegistry) -> Dash:
    settings = Settings(data_dir=tmp_path_factory.mktemp("pages") / "data", weights="random", device="cpu")
    return create_app(settings, Analyzer(settings, registry=registry))
