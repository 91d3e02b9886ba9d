"""Activations in a real Redis: a pickle planted under the app's keys is read
as bytes, found unreadable and recomputed, never run (issue 11, finding 6)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from dashapp.analysis.models import ModelRegistry
from dashapp.service import Analyzer
from dashapp.settings import Settings
from dashapp.state import ViewState
from tests.support.hostile import Planted
from tests.support.servers import RedisServer, random_png


def test_a_pickle_planted_in_redis_is_never_run(redis_server: RedisServer, tmp_path: Path,
                                                 registry: ModelRegistry) -> None:
    settings = Settings(data_dir=tmp_path / "data", redis_url=redis_server.url, weights="random", device="cpu")
    first = Analyzer(settings, registry=registry)
    sha = first.library.ingest_bytes(random_png(977)).sha256
    state = ViewState(image=sha, model="alexnet", layer="features.3", n=4)
    expected = first.open(state).maps.copy()
    client = redis_server.client()
    keys = [key for key in client.keys("dashapp:act:*") if sha.encode() in key]
    assert len(keys) >= 2
    marker = tmp_path / "pwned"
    # Flask-Caching's own Redis format: "!" then a pickle.
    payload = b"!" + pickle.dumps(Planted(marker))
    for key in keys:
        client.set(key, payload)
    second = Analyzer(settings, registry=registry)  # a fresh worker: nothing in its memory
    np.testing.assert_array_equal(second.open(state).maps, expected)
    assert not marker.exists()
    assert second.activations.stats["computes"] == 1
