"""Settings for an app a test builds itself: what every test app runs with
(``TEST_SETTINGS``: random weights, never a download, on the CPU) and the
session's one folder of shared weight files (``DASHAPP_WEIGHTS_DIR``, set by
``tests/conftest.py`` for the session and taken by server and worker
processes from the environment), with the test's ``overrides``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dashapp.config.settings import Settings

TEST_SETTINGS: dict[str, Any] = {"weights": "random", "device": "cpu"}


def app_settings(**overrides: Any) -> Settings:
    folder = os.environ.get("DASHAPP_WEIGHTS_DIR")
    shared = {"weights_dir": Path(folder)} if folder else {}
    return Settings(**{**TEST_SETTINGS, **shared, **overrides})
