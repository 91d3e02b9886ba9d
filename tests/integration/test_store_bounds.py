"""The stores' bounds against a real Redis and through the API (issue 25):
Redis images are counted as Redis counts them (MEMORY USAGE plus measured
bookkeeping: at least what INFO's used_memory grows by); Redis collection
blobs are bounded, least recently used collection first, their images held
while they live; an evicted collection answers 410 and says so."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from PIL import Image

from dashapp.collections import CollectionStore, RedisBlobStore, build_collection, redis_blobs
from dashapp.collections.manifest import CollectionEvicted
from dashapp.collections.sources import Candidate
from dashapp.intake import accept_bytes
from dashapp.store import RedisImageStore, redis_client
from devtools.servers import RedisServer
from tests.support.hostile import encode, noise


def png(seed: int, size: tuple[int, int] = (8, 8)) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def test_redis_images_are_counted_as_redis_counts_them(redis_server: RedisServer) -> None:
    client = redis_server.client()
    store = RedisImageStore(redis_server.url, 40_000_000, max_bytes=1 << 40)
    images = [accept_bytes(encode(noise(4, 4, seed=70_000 + i), "PNG")) for i in range(1000)]
    counted_before, used_before = int(client.get(store.TOTAL) or 0), client.info("memory")["used_memory"]
    for accepted in images:
        store.put(accepted)
    counted = int(client.get(store.TOTAL)) - counted_before
    grown = client.info("memory")["used_memory"] - used_before
    lengths = sum(len(a.stored_bytes()) for a in images)
    assert grown > 3 * lengths  # what the review saw: Redis spends several times the bytes' length
    assert grown <= counted <= 1.5 * grown, (grown, counted)
    sample = images[0].sha256
    assert int(client.hget(store.SIZES, sample)) >= client.memory_usage(store._key(sample))


def collection_of(images: RedisImageStore, seed: int, count: int = 3) -> Any:
    entries = [Candidate(f"{seed}-{i}.png", png(seed * 100 + i)) for i in range(count)]
    return build_collection(f"c{seed}", entries, images)


def test_redis_collections_are_bounded_least_recently_used_first(redis_server: RedisServer) -> None:
    client = redis_server.client()
    for key in client.scan_iter(match="dashapp:blob*"):
        client.delete(key)
    images = RedisImageStore(redis_server.url, 40_000_000, max_bytes=1 << 40)
    measure = CollectionStore(RedisBlobStore(redis_client(redis_server.url, 5.0)), images)
    first = measure.put(collection_of(images, 1))
    measure.blobs.put(f"scan:{first.id}:m:t:d", b"r" * 3000)
    one = int(client.get(redis_blobs.TOTAL))  # a collection, its scan and its images
    assert one > images.size_of([m.image for m in first.images]) > 0
    store = CollectionStore(RedisBlobStore(redis_client(redis_server.url, 5.0), max_bytes=int(3.5 * one)), images)
    kept = [first]
    for seed in range(2, 6):
        collection = store.put(collection_of(images, seed))
        store.blobs.put(f"scan:{collection.id}:m:t:d", b"r" * 3000)
        kept.append(collection)
        if seed == 3:
            client.zadd(redis_blobs.GROUPS, {first.id: 1e12})  # collection 1 used last (a read's recency)
    alive = [store.get(c.id) is not None for c in kept]
    assert alive == [True, False, False, True, True], alive
    assert int(client.get(redis_blobs.TOTAL)) <= 3.5 * one
    assert not client.exists(f"dashapp:blob:scan:{kept[1].id}:m:t:d")
    with pytest.raises(CollectionEvicted):
        store.require(kept[1].id)
    # The live collections' images are held: an image store at its bound evicts only the others.
    tight = RedisImageStore(redis_server.url, 40_000_000, max_bytes=1)
    for seed in range(99_990, 99_994):  # a write evicts at most 1,000 images (the first test left 1,000)
        tight.put(accept_bytes(png(seed)))
    assert all(images.has(m.image) for c in kept if store.get(c.id) is not None for m in c.images)
    assert not any(images.has(m.image) for m in kept[1].images)  # released with its collection, then evicted


@pytest.fixture()
def small_client(make_app: Callable[..., Any]) -> Any:
    # Room for about one small collection with its scan.
    return make_app(scan_shard=4, scan_batch=2, collection_store_max_bytes=120 * 1024).server.test_client()


def upload(client: Any, seeds: range) -> Any:
    files = [(io.BytesIO(png(seed, (40, 30))), f"{'ab'[seed % 2]}/{seed}.png") for seed in seeds]
    return client.post("/api/collections", data={"files": files}, content_type="multipart/form-data")


def test_an_evicted_collection_answers_410_and_says_so(small_client: Any) -> None:
    first = upload(small_client, range(0, 3)).json
    for start in range(10, 200, 3):
        assert upload(small_client, range(start, start + 3)).status_code == 201
        if small_client.get(f"/api/collections/{first['id']}/scan?model=resnet18").status_code == 410:
            break
    answer = small_client.get(f"/api/collections/{first['id']}/scan?model=resnet18")
    assert answer.status_code == 410
    assert "removed to make room" in answer.json["error"]
    top = small_client.get(f"/api/collections/{first['id']}/top?model=resnet18&layer=conv1&filter=0")
    assert top.status_code == 410
    assert small_client.get(f"/api/collections/{'0' * 64}/scan?model=resnet18").status_code == 404
