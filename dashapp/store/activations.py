"""The shared activation cache: layer responses and predictions keyed by
(image, model, weights, layer), held by the Flask-Caching backends shared by
every worker as compact float16 blobs. A failing backend degrades to
recomputing; it never fails a request.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from dashapp.analysis.models.capture import Capture, capture
from dashapp.analysis.models.registry import LoadedModel

from .codec import decode_maps, decode_meta, encode_maps, encode_meta, to_half, to_single
from .memo import KeyedLocks, LruDict
from .priority import FILLS

log = logging.getLogger(__name__)

KEY_VERSION = "v2"
# After a backend error, skip it for this long instead of making every
# request wait for the same timeout.
BACKEND_RETRY_S = 2.0
META_COST = 4096  # nominal size of a prediction entry in the local LRU
# A bound on waiting for a write in flight (never reached unless a backend
# hangs past its own timeouts); after it, the reader goes on without it.
WRITE_WAIT_S = 30.0


@dataclass(frozen=True)
class Subject:
    """One image under one loaded model: what every key names (``sha``, the
    model and its weights) and what a miss computes from (the model and the
    image). The service binds it once per view (``service.view.LayerView``)."""

    sha: str
    model: LoadedModel
    image: Image.Image


def _nbytes(maps: np.ndarray) -> int:
    return int(maps.nbytes)


class WriteBehind:
    """Writes to the shared backend on one background thread of this process.

    A fill made while its thread defers its writes (``ActivationStore.defer_writes``:
    the web app does for each request) hands the encoding and the writing of
    its layers to this thread and goes on to the answer; the request waits for
    them before its answer leaves (``finish_writes``), so whoever holds an
    answer finds the shared cache written. A reader in this process asking the
    backend for an entry still being written waits for that write (``wait``)
    instead of missing it. Nothing queued is dropped: the executor's thread
    finishes its queue at interpreter exit, and a write refused at shutdown is
    made in the caller's thread.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="activation-writes")
        self._lock = threading.Lock()
        self._pending: dict[str, threading.Event] = {}

    def submit(self, keys: list[str], write: Callable[[], None]) -> threading.Event:
        """Run ``write`` (which stores ``keys``) in the background; the event is set once it is done."""
        done = threading.Event()
        with self._lock:  # registered before it runs: no reader can miss it
            for key in keys:
                self._pending[key] = done

        def run() -> None:
            try:
                write()
            except Exception:  # a cache write never fails a request; the entry is recomputed later
                log.exception("activation cache write failed")
            finally:
                with self._lock:
                    for key in keys:
                        if self._pending.get(key) is done:
                            del self._pending[key]
                done.set()

        try:
            self._executor.submit(run)
        except RuntimeError:  # the interpreter is shutting down: write here
            run()
        return done

    def wait(self, key: str) -> None:
        with self._lock:
            done = self._pending.get(key)
        if done is not None:
            done.wait(WRITE_WAIT_S)


_writer: WriteBehind | None = None
_writer_lock = threading.Lock()


def write_behind(create: bool = True) -> WriteBehind | None:
    """This process's writer (a forked worker gets its own: threads do not survive a fork)."""
    global _writer
    writer = _writer
    if writer is not None and writer.pid == os.getpid():
        return writer
    if not create:
        return None
    with _writer_lock:
        if _writer is None or _writer.pid != os.getpid():
            _writer = WriteBehind()
        return _writer


class ActivationStore:
    """Layer responses and predictions keyed by (image, model, weights, layer).

    A miss runs one forward pass (``compute``: ``analysis.capture``, or a
    stand-in in tests) on the subject's model and image, and stores every conv
    layer of that model at once.

    At most ``fills_at_once`` misses of a process compute at a time
    (``DASHAPP_FILLS_AT_ONCE``); the others wait their turn, holding neither
    CPU nor memory, and a read the cache can answer never waits for them. A
    fill (the forward pass, encoding the layers, writing them) shares the
    worker's cores and GIL with every request it answers meanwhile. Under a
    stream of new images
    (``benchmarks/load.py``, 16 threads), a fill per waiting thread made the
    fills slow one another down (a new image's analysis: p95 4.8 s, slowest
    6.3 s) and hold their activations together (1,030 MiB PSS a worker); one
    at a time, each new image is served in turn (p95 2.4-2.8 s, slowest
    3.0-4.4 s, PSS 909-1,001 MiB) and the cache's answers stay at
    milliseconds (``docs/gunicorn-flags.md``). The forward pass runs on a
    fill thread of lower priority (``priority.py``), behind the answers.
    """

    def __init__(self, backend: Any, local_bytes: int = 96 * 1024 * 1024,
                 compute: Callable[[LoadedModel, Image.Image], Capture] = capture, fills_at_once: int = 1) -> None:
        self.backend = backend
        self._compute = compute
        self._local = LruDict(max_cost=local_bytes)
        self._locks = KeyedLocks()
        self._fill_gate = threading.Semaphore(fills_at_once)
        self._backend_down_until = 0.0
        self.stats = {"hits": 0, "misses": 0, "computes": 0, "backend_errors": 0}
        self._stats_lock = threading.Lock()
        self._deferred = threading.local()  # .writes: this thread's writes in flight, None when not deferring

    # -- keys

    @staticmethod
    def key(subject: Subject, name: str) -> str:
        """The cache key of anything derived from (image, model, weights): ``name`` says what."""
        return f"{KEY_VERSION}:{subject.model.name}:{subject.model.weights.tag}:{subject.sha}:{name}"

    # -- backend calls that never raise

    def _backend_call(self, name: str, *args: Any) -> Any:
        if time.monotonic() < self._backend_down_until:
            return None
        try:
            return getattr(self.backend, name)(*args)
        except Exception as exc:  # any backend failure degrades to recomputing
            self._count("backend_errors")
            self._backend_down_until = time.monotonic() + BACKEND_RETRY_S
            log.warning("activation cache %s failed (%s); recomputing without it", name, exc)
            return None

    def get_blob(self, key: str) -> bytes | None:
        """Raw bytes stored under ``key`` in the shared backend (None when absent or
        down), once a write of it in flight in this process is done."""
        writer = write_behind(create=False)
        if writer is not None:
            writer.wait(key)
        blob = self._backend_call("get", key)
        return blob if isinstance(blob, bytes) else None

    def put_blob(self, key: str, blob: bytes) -> None:
        self._backend_call("set", key, blob)

    def delete_blob(self, key: str) -> None:
        self._backend_call("delete", key)

    # -- reads

    def _count(self, name: str) -> None:
        with self._stats_lock:
            self.stats[name] += 1

    def _cached(self, key: str, decode: Callable[[bytes], Any], cost: Callable[[Any], int]) -> Any | None:
        """This process's copy, else the shared backend's (decoded and kept here), else None."""
        local = self._local.get(key)
        if local is not None:
            return local
        blob = self.get_blob(key)
        if blob is None:
            return None
        try:
            value = decode(blob)
        except (ValueError, zlib.error):
            log.warning("discarding unreadable cache entry %s", key)
            return None
        self._local.put(key, value, cost(value))
        return value

    def meta(self, subject: Subject) -> dict[str, Any]:
        key = self.key(subject, "__meta__")
        meta = self._cached(key, decode_meta, lambda _: META_COST)
        if meta is None:
            self._fill(subject)
            meta = self._local.get(key) or {}
        return meta

    def layer(self, subject: Subject, layer: str) -> np.ndarray:
        maps = self._cached(self.key(subject, layer), decode_maps, _nbytes)
        if maps is not None:
            self._count("hits")
            return maps
        self._count("misses")
        return self._fill(subject)[layer]

    # -- fill

    def _fill(self, subject: Subject) -> dict[str, np.ndarray]:
        """One forward pass fills every layer of the model. Concurrent misses
        for the same (image, model) in this process wait for the first; a
        miss that waited its turn finds what was filled meanwhile."""
        meta_key = self.key(subject, "__meta__")
        with self._locks.hold(meta_key), self._fill_gate:
            filled = self._filled(subject, meta_key)
            if filled is not None:
                return filled
            return self._compute_and_store(subject, meta_key)

    def _filled(self, subject: Subject, meta_key: str) -> dict[str, np.ndarray] | None:
        """Every layer, when the request this one waited for (or another
        worker, through the shared backend) stored them; else None."""
        meta = self._cached(meta_key, decode_meta, lambda _: META_COST)
        if meta is None:
            return None
        filled = {name: self._cached(self.key(subject, name), decode_maps, _nbytes) for name in meta["layers"]}
        return filled if all(maps is not None for maps in filled.values()) else None  # type: ignore[return-value]

    def _compute_and_store(self, subject: Subject, meta_key: str) -> dict[str, np.ndarray]:
        """The forward pass, every layer stored: the layers, then the meta.
        Deferred (``defer_writes``), the encoding and the writing go on in the
        background while the caller builds its answer."""
        result = FILLS.run(self._compute, subject.model, subject.image)  # behind the answers (priority.py)
        meta = {"top": [p.as_dict() for p in result.top], "layers": list(result.responses)}
        self._count("computes")
        stored: dict[str, np.ndarray] = {}
        halves: dict[str, np.ndarray] = {}
        for name, maps in result.responses.items():
            key = self.key(subject, name)
            halves[key] = to_half(maps)
            # Serve what the cache holds (float16-rounded), so every
            # worker and every request sees the same numbers.
            stored[name] = to_single(halves[key])
            self._local.put(key, stored[name], stored[name].nbytes)

        def write() -> None:
            # Layers first, meta last: a reader that finds the meta finds the layers.
            self._backend_call("set_many", {key: encode_maps(half) for key, half in halves.items()})
            self._backend_call("set", meta_key, encode_meta(meta))

        deferred = getattr(self._deferred, "writes", None)
        if deferred is None:
            write()
        else:
            writer = write_behind()
            assert writer is not None
            deferred.append(writer.submit([*halves, meta_key], write))
        self._local.put(meta_key, meta, META_COST)
        return stored

    # -- writes in the background while a request builds its answer

    def defer_writes(self) -> None:
        """From now until ``finish_writes`` in this thread, a fill writes the
        shared cache in the background (``WriteBehind``)."""
        self._deferred.writes = []

    def finish_writes(self, _exc: BaseException | None = None) -> None:
        """Wait for the writes this thread deferred (its answer must not leave
        before the cache is written), and stop deferring."""
        writes: list[threading.Event] = getattr(self._deferred, "writes", None) or []
        self._deferred.writes = None
        for done in writes:
            done.wait(WRITE_WAIT_S)

    def derived(self, subject: Subject, name: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """A map derived from (image, model), e.g. class evidence, stored like
        the layers (``name`` says what it is: layer, class, method)."""
        key = self.key(subject, name)
        maps = self._cached(key, decode_maps, _nbytes)
        if maps is not None:
            return maps
        with self._locks.hold(key):
            local = self._local.get(key)
            if local is not None:
                return local
            blob = encode_maps(compute())
            self.put_blob(key, blob)
            maps = decode_maps(blob)
            self._local.put(key, maps, maps.nbytes)
            return maps

    def cached_bytes(self, subject: Subject, layers: list[str]) -> int:
        total = 0
        for name in [*layers, "__meta__"]:
            blob = self.get_blob(self.key(subject, name))
            if blob is not None:
                total += len(blob)
        return total
