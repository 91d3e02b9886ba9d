"""gunicorn entry point: ``gunicorn dashapp.wsgi:server``."""

from __future__ import annotations

import sys

from dashapp.analysis.models.registry import ModelError
from dashapp.config.settings import SettingsError

from . import create_app

try:
    app = create_app()
except (SettingsError, ModelError) as exc:
    # A clear line in the log instead of a traceback per worker.
    print(f"Configuration error: {exc}", file=sys.stderr, flush=True)
    raise SystemExit(2) from None
server = app.server
