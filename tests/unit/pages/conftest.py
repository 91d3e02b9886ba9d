"""One app for the page tests, on the session's seeded models."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from dash import Dash


@pytest.fixture(scope="package")
def app(make_app: Callable[..., Dash]) -> Dash:
    return make_app()
