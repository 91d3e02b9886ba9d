"""gunicorn entry point: ``gunicorn dashapp.wsgi:server``."""

from __future__ import annotations

import sys

from dashapp.analysis.models.registry import ModelError
from dashapp.config.settings import SettingsError, load_settings

from . import create_app
from .web import threads
from .web.startup import set_up_before_serving

try:
    settings = load_settings()
    # Before anything computes: the worker's requests, not one operation, share the cores (web/threads.py).
    threads.limit(settings.compute_threads)
    app = create_app(settings)
    set_up_before_serving(app)
except (SettingsError, ModelError) as exc:
    # A clear line in the log instead of a traceback per worker.
    print(f"Configuration error: {exc}", file=sys.stderr, flush=True)
    raise SystemExit(2) from None
server = app.server
