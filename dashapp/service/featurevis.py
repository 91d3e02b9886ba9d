"""Feature visualization jobs: computed once, cached in the shared store, with progress.

A visualization is keyed by (model, weights tag, layer, filter, settings:
objective, steps, size, seed...). Its PNG and a small JSON meta live in the
activation store's backend (a folder or Redis, so they survive restarts and
every worker sees them); while one is computed, a progress entry there says
how far it is, so a poll answered by any worker can tell.

Two file locks in the data directory keep the CPU honest: one per key (a
second request for the same visualization, from any thread or process of
this host, waits for the first and then reads its result instead of
computing it again) and one run slot (one optimization at a time per host;
others wait their turn). Hosts that share a Redis also take a per-key lock
there (SET NX with an expiry the holder renews while it works), so another
host waits too; only while Redis is unreachable may two hosts compute the
same image twice.

Page jobs (the pages' background callbacks) also take a page-job slot, without
waiting (``page_jobs.py``): past its slots the next is refused ("busy, try
again", 429), so forged jobs cannot pile up processes or occupy every worker
while scans wait.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image
from redis.exceptions import RedisError

from dashapp.analysis.featurevis.optimize import (
    OBJECTIVES,
    CancelFlag,
    Cancelled,
    FeatureVisError,
    FeatureVisResult,
    FeatureVisSettings,
    visualize,
)
from dashapp.analysis.models.registry import LoadedModel
from dashapp.config.settings import Settings

from ..errors import UserError
from ..i18n import _
from ..store import ActivationStore, redis_client
from ..store.backends import REDIS_TIMEOUT_S
from ..wording.errors import error_text
from .catalog import ModelCatalog
from .page_jobs import PageJobs

log = logging.getLogger(__name__)

KEY_VERSION = "fv1"
PROGRESS_EVERY_S = 1.0  # how often a running job refreshes its shared progress entry
STALE_AFTER_S = 30.0  # a progress entry not refreshed for this long belongs to a dead job
LOCK_POLL_S = 0.2
REDIS_LOCK_S = 60.0  # a crashed holder's Redis lock lapses after this long

StepFn = Callable[[int, int, "np.ndarray | None"], None]


@dataclass(frozen=True)
class FeatureVisRequest:
    """One visualization, validated: which unit, under which settings."""

    loaded: LoadedModel
    layer: str
    filter: int
    settings: FeatureVisSettings

    @property
    def key(self) -> str:
        weights = self.loaded.weights.tag
        return f"{KEY_VERSION}:{self.loaded.name}:{weights}:{self.layer}:{self.filter}:{self.settings.key()}"

    @property
    def query(self) -> str:
        """The query string that names this visualization in the API."""
        return (f"model={self.loaded.name}&layer={self.layer}&filter={self.filter}"
                f"&objective={self.settings.objective}&steps={self.settings.steps}&size={self.settings.size}")


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


@contextmanager
def file_lock(path: os.PathLike[str] | str, wait: Callable[[], None] | None = None) -> Iterator[None]:
    """An exclusive flock on ``path``, polled so ``wait`` can run meanwhile
    (report "queued", or raise to give up). The OS drops it if the process dies."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if wait is not None:
                    wait()
                time.sleep(LOCK_POLL_S)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextmanager
def redis_lock(client: Any, name: str, wait: Callable[[], None] | None = None) -> Iterator[Callable[[], None]]:
    """SET NX with an expiry, for hosts that share a Redis: the holder renews
    it (the yielded function) while it works, and a holder that died lets go
    after REDIS_LOCK_S. If Redis cannot be reached the lock is skipped: at
    worst two hosts compute the same image."""
    token = os.urandom(8).hex()

    def renew() -> None:
        with contextlib.suppress(RedisError):
            client.pexpire(name, int(REDIS_LOCK_S * 1000))

    held = True
    try:
        while not client.set(name, token, nx=True, px=int(REDIS_LOCK_S * 1000)):
            if wait is not None:
                wait()
            time.sleep(LOCK_POLL_S)
    except RedisError as exc:
        log.warning("feature visualization lock in Redis unavailable (%s); using the host lock only", exc)
        held = False
    try:
        yield renew if held else (lambda: None)
    finally:
        if held:
            with contextlib.suppress(RedisError):
                if client.get(name) == token.encode():
                    client.delete(name)


class FeatureVisJobs:
    def __init__(self, settings: Settings, models: ModelCatalog, activations: ActivationStore) -> None:
        self.settings = settings
        self.models = models
        self.store = activations
        self.lock_dir = settings.data_dir / "featurevis-locks"
        self.page_jobs = PageJobs(self.lock_dir, activations)
        self.redis = redis_client(settings.redis_url, REDIS_TIMEOUT_S) if settings.redis_url else None
        self._threads: dict[str, threading.Thread] = {}
        self._owners: dict[str, str] = {}  # a job's key -> the user who started it (with DASHAPP_AUTH on)
        self._guard = threading.Lock()

    # -- requests

    def request(self, model: str, layer: str, filter_text: str, objective: str = "channel",
                steps: str | None = None, size: str | None = None) -> FeatureVisRequest:
        """Validate API or page parameters into a request, or raise a UserError."""
        info = self.models.layer(model, layer)
        if not (filter_text.isascii() and filter_text.isdigit() and len(filter_text) <= 6):
            raise UserError(_("filter must be a filter index, e.g. filter=3."))
        index = int(filter_text)
        if index >= info.out_channels:
            raise UserError(_("Filter {index} does not exist: {layer} has filters 0 to {last}.").format(
                index=index, layer=layer, last=info.out_channels - 1), 404)
        if objective not in OBJECTIVES:
            raise UserError(_("objective must be one of {choices}.").format(choices=", ".join(OBJECTIVES)))
        defaults = FeatureVisSettings()
        changes = {
            "steps": self._number("steps", steps, min(defaults.steps, self.settings.featurevis_max_steps)),
            "size": self._number("size", size, min(defaults.size, self.settings.featurevis_max_size)),
        }
        try:
            chosen = FeatureVisSettings.for_objective(objective, **changes).checked(
                self.settings.featurevis_max_steps, self.settings.featurevis_max_size)
        except FeatureVisError as exc:
            raise UserError(error_text(exc) + ".") from exc
        return FeatureVisRequest(self.models.model(model), layer, index, chosen)

    @staticmethod
    def _number(name: str, text: str | None, default: int) -> int:
        if text is None or text == "":
            return default
        if not (text.isascii() and text.isdigit() and len(text) <= 7):
            raise UserError(_("{name} must be a positive whole number.").format(name=name))
        return int(text)

    # -- the shared store

    def meta(self, request: FeatureVisRequest) -> dict[str, Any] | None:
        """The finished visualization's numbers, or None when it is not cached."""
        blob = self.store.get_blob(f"{request.key}:meta")
        return json.loads(blob) if blob else None

    def png(self, request: FeatureVisRequest) -> bytes | None:
        return self.store.get_blob(f"{request.key}:png")

    def progress(self, request: FeatureVisRequest) -> dict[str, Any] | None:
        blob = self.store.get_blob(f"{request.key}:progress")
        if not blob:
            return None
        entry = json.loads(blob)
        return entry if time.time() - entry.get("updated", 0) < STALE_AFTER_S else None

    def _set_progress(self, request: FeatureVisRequest, **entry: Any) -> None:
        entry["updated"] = time.time()
        self.store.put_blob(f"{request.key}:progress", json.dumps(entry).encode())

    def _save(self, request: FeatureVisRequest, result: FeatureVisResult) -> dict[str, Any]:
        meta = {
            "objective_value": result.objective_value,
            "mean_response": result.mean_response,
            "seconds": round(result.seconds, 2),
            "settings": result.settings.as_dict(),
            "weights": request.loaded.weights.as_dict(),
            "model": request.loaded.name, "layer": request.layer, "filter": request.filter,
        }
        # PNG first, meta last: a reader that finds the meta finds the image.
        self.store.put_blob(f"{request.key}:png", png_bytes(result.image))
        self.store.put_blob(f"{request.key}:meta", json.dumps(meta).encode())
        return meta

    # -- computing

    def _lock_path(self, name: str) -> str:
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        return str(self.lock_dir / f"{name}.lock")

    def compute(self, request: FeatureVisRequest, on_step: StepFn | None = None,
                cancel: CancelFlag | None = None) -> dict[str, Any]:
        """The visualization's meta: cached, or computed here, once per host."""
        done = self.meta(request)
        if done is not None:
            return done
        steps = request.settings.steps
        last = [0.0]

        def cancelled() -> None:
            if cancel is not None and cancel.is_set():
                raise Cancelled("cancelled while queued")

        def queued() -> None:
            # Only the holder of the visualization's lock reports on it: a
            # request waiting behind it must not overwrite its progress.
            cancelled()
            if time.monotonic() - last[0] > PROGRESS_EVERY_S:
                last[0] = time.monotonic()
                self._set_progress(request, state="queued", step=0, steps=steps, started=time.time())

        digest = hashlib.sha256(request.key.encode()).hexdigest()[:32]
        with file_lock(self._lock_path(f"key-{digest}"), cancelled), self._hosts_lock(digest, cancelled) as renew:
            done = self.meta(request)  # computed by the request we waited for
            if done is not None:
                return done

            def waiting_for_slot() -> None:  # report, and keep the other hosts' lock alive
                queued()
                renew()

            try:
                queued()
                with file_lock(self._lock_path("run-slot"), waiting_for_slot):
                    return self._run(request, on_step, cancel, renew)
            except BaseException as exc:
                if isinstance(exc, Exception) and not isinstance(exc, Cancelled):
                    self._set_progress(request, state="error", step=0, steps=steps, error=str(exc)[:300])
                else:
                    self.store.delete_blob(f"{request.key}:progress")
                raise

    def _hosts_lock(self, digest: str, wait: Callable[[], None]) -> Any:
        """The lock that reaches other hosts: Redis's, when they share one."""
        if self.redis is None:
            return contextlib.nullcontext(lambda: None)
        return redis_lock(self.redis, f"dashapp:fvlock:{digest}", wait)

    def _run(self, request: FeatureVisRequest, on_step: StepFn | None, cancel: CancelFlag | None,
             renew: Callable[[], None]) -> dict[str, Any]:
        started = time.time()
        last = [0.0]

        def step(number: int, steps: int, preview: np.ndarray | None) -> None:
            if time.monotonic() - last[0] > PROGRESS_EVERY_S or number == steps:
                last[0] = time.monotonic()
                self._set_progress(request, state="running", step=number, steps=steps, started=started)
                renew()
            if on_step is not None:
                on_step(number, steps, preview)

        self._set_progress(request, state="running", step=0, steps=request.settings.steps, started=started)
        result = visualize(request.loaded, request.layer, request.filter, request.settings, progress=step,
                           cancel=cancel, max_steps=self.settings.featurevis_max_steps,
                           max_size=self.settings.featurevis_max_size)
        meta = self._save(request, result)
        self.store.delete_blob(f"{request.key}:progress")
        log.info("featurevis computed %s in %.1f s", request.key, result.seconds)
        return meta

    # -- jobs for the API: a thread per visualization in this worker

    def start(self, request: FeatureVisRequest, user: str | None = None) -> dict[str, Any]:
        """Start the visualization unless it is cached or already under way
        (here or in another worker); answer its status either way. ``user``
        (access control on) may have DASHAPP_FEATUREVIS_PER_USER of this worker's jobs."""
        status = self.status(request)
        if status["state"] in ("done", "queued", "running"):
            return status
        with self._guard:
            self._threads = {k: t for k, t in self._threads.items() if t.is_alive()}
            if request.key not in self._threads:
                if len(self._threads) >= self.settings.featurevis_queue:
                    raise UserError(_("Too many feature visualizations are waiting; try again in a minute."), 429)
                self._owners = {k: u for k, u in self._owners.items() if k in self._threads}
                if user is not None and sum(u == user for u in self._owners.values()) \
                        >= self.settings.featurevis_per_user:
                    raise UserError(_("Your other feature visualizations are still running; try again when one "
                                      "has finished."), 429)
                if user is not None:
                    self._owners[request.key] = user
                thread = threading.Thread(target=self._background, args=(request,), daemon=True,
                                          name=f"featurevis-{request.filter}")
                self._threads[request.key] = thread
                self._set_progress(request, state="queued", step=0, steps=request.settings.steps,
                                   started=time.time())
                thread.start()
        return self.status(request)

    def _background(self, request: FeatureVisRequest) -> None:
        try:
            self.compute(request)
        except (FeatureVisError, Cancelled):
            pass  # recorded in the progress entry for the pollers
        except Exception:  # also recorded there; and a bug: log it for the operator
            log.exception("feature visualization %s failed", request.key)

    def status(self, request: FeatureVisRequest) -> dict[str, Any]:
        """``{state, step, steps}``: done (with the numbers), queued, running,
        error (with the message), or absent."""
        meta = self.meta(request)
        steps = request.settings.steps
        if meta is not None:
            return {"state": "done", "step": steps, "steps": steps, "png": f"/api/featurevis.png?{request.query}",
                    "objective_value": meta["objective_value"], "mean_response": meta["mean_response"],
                    "seconds": meta["seconds"], "weights": meta["weights"]}
        entry = self.progress(request)
        if entry is None:
            return {"state": "absent", "step": 0, "steps": steps}
        answer = {"state": entry["state"], "step": entry.get("step", 0), "steps": entry.get("steps", steps)}
        if entry["state"] == "running" and answer["step"]:
            elapsed = time.time() - entry.get("started", time.time())
            answer["seconds_left"] = round(elapsed / answer["step"] * (answer["steps"] - answer["step"]), 1)
        if entry["state"] == "error":
            answer["error"] = entry.get("error") or _("The visualization failed.")
        return answer
