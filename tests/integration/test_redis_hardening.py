"""The app's data in a real Redis, against the review's findings: a pickle
planted under the activation keys is read as bytes, found unreadable and
recomputed, never run (finding 6); images are bounded, least recently used
evicted first, examples never (finding 5)."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dashapp.analysis.models.registry import ModelRegistry
from dashapp.config.settings import Settings
from dashapp.intake import accept_bytes
from dashapp.service import Analyzer
from dashapp.state.schema import ViewState
from dashapp.store import RedisImageStore
from devtools.servers import RedisServer, random_png
from tests.support.hostile import Planted, encode, noise


def test_a_pickle_planted_in_redis_is_never_run(redis_server: RedisServer, tmp_path: Path,
                                                 registry: ModelRegistry,
                                                 make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(redis_url=redis_server.url)
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


def test_images_in_redis_are_bounded_least_recently_used_first(redis_server: RedisServer) -> None:
    client = redis_server.client()
    client.delete(RedisImageStore.RECENCY, RedisImageStore.TOTAL)  # count only this test's images
    uploads = [accept_bytes(encode(noise(96, 96, seed=40 + i), "JPEG", quality=90)) for i in range(5)]
    example = accept_bytes(encode(noise(96, 96, seed=98), "JPEG", quality=90))
    # What each costs Redis (MEMORY USAGE and its bookkeeping), measured by a first store.
    RedisImageStore(redis_server.url, 40_000_000, max_bytes=1 << 40).put(uploads[0])
    size = int(client.hget(RedisImageStore.SIZES, uploads[0].sha256))
    assert size > len(uploads[0].stored_bytes())
    client.delete(RedisImageStore.RECENCY, RedisImageStore.TOTAL, RedisImageStore.SIZES,
                  f"dashapp:image:{uploads[0].sha256}")
    bound = 3 * size + size // 2
    store = RedisImageStore(redis_server.url, 40_000_000, max_bytes=bound)
    store.pin(example.sha256)
    store.put(example)
    for accepted in uploads[:3]:
        store.put(accepted)
    # Recency is the sorted set's score: make upload 0 the most recently used.
    client.zadd(RedisImageStore.RECENCY, {a.sha256: 1000.0 + i for i, a in enumerate(uploads[:3])})
    client.zadd(RedisImageStore.RECENCY, {uploads[0].sha256: 5000.0})
    for accepted in uploads[3:]:
        store.put(accepted)
    kept = {a.sha256 for a in [*uploads, example] if client.exists(f"dashapp:image:{a.sha256}")}
    assert example.sha256 in kept and uploads[0].sha256 in kept
    assert uploads[1].sha256 not in kept and uploads[2].sha256 not in kept
    assert uploads[3].sha256 in kept and uploads[4].sha256 in kept
    counted = sum(int(client.hget(RedisImageStore.SIZES, sha)) for sha in kept - {example.sha256})
    assert counted <= bound and int(client.get(RedisImageStore.TOTAL)) == counted
    # Counted as Redis counts it, not by the bytes' length.
    assert all(int(client.hget(RedisImageStore.SIZES, sha)) >= client.memory_usage(f"dashapp:image:{sha}")
               for sha in kept)
    # Kept as the original JPEG bytes, not a PNG several times larger.
    assert client.strlen(f"dashapp:image:{uploads[4].sha256}") == len(uploads[4].original)
