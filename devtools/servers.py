"""Real servers on loopback for integration tests and benchmarks.

``start_redis`` runs a private redis-server (``redis_server.py``),
``start_gunicorn`` runs the app under gunicorn exactly as in production, no
in-process test client (``gunicorn_server.py``), each on a free 127.0.0.1 port
with its own directory. What they share, waiting on a condition against a
deadline (nothing sleeps for a fixed time to "let things settle"), stopping a
process tree, the servers still running, is in ``processes.py``; test images
in ``images.py``. This module is the one name the tests and benchmarks import
them by.
"""

from .gunicorn_server import (
    ACCESS_FORMAT,
    PROBE_HEADER,
    Access,
    GunicornServer,
    app_env,
    start_gunicorn,
)
from .images import random_png
from .processes import LIVE, REPO_ROOT, ServerError, concurrently, free_port, tail, wait_for
from .redis_server import RedisServer, start_redis

__all__ = [
    "ACCESS_FORMAT",
    "LIVE",
    "PROBE_HEADER",
    "REPO_ROOT",
    "Access",
    "GunicornServer",
    "RedisServer",
    "ServerError",
    "app_env",
    "concurrently",
    "free_port",
    "random_png",
    "start_gunicorn",
    "start_redis",
    "tail",
    "wait_for",
]
