"""Scan jobs over collections: shards, progress, cancel, the final merge.

A scan of (collection, model) is cut into shards of ``scan_shard`` images
(the images sorted by hash, so the plan depends only on the collection).
Each shard is scanned on its own, its result stored in the blob store, and
when every shard's result is there they are merged in shard order into the
final result. Shards are the unit of work for Celery workers (any number,
any host) and for the embedded in-process runner alike, so both give the
same result, bit for bit. A shard whose result is stored is never redone:
a restarted or retried scan resumes.

Blob keys (``base`` = collection:model:weights-tag:labels-digest):
``scan:base`` final result, ``shard:base:size:batch:i`` shard results,
``progress:base:i`` images done in shard i, ``job:base`` the job record,
``cancel:base`` the cancel flag, ``beat:base`` when a shard last made progress.
The job record is written only by start, cancel, failure and the merge, so
progress from several workers never overwrites it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from dashapp.analysis.scan.result import ScanResult, from_bytes, merge, to_bytes
from dashapp.analysis.scan.scanner import ScanCancelled, ScanItem, scan

from ..errors import UserError
from ..i18n import _
from ..intake import IntakeError
from ..intake.reduced import decode_reduced, stored_size
from ..store import LruDict
from .blobs import BlobStore
from .manifest import Collection, CollectionStore, Member

log = logging.getLogger(__name__)

STALE_S = 120.0
WAITING_S = 15.0  # no progress for this long (or three batches' time) reads "waiting", not a growing estimate
RESULT_CACHE_BYTES = 256 * 1024 * 1024  # an in-process job silent this long died with its process
# An image of more pixels than this is decoded reduced for a scan (its shorter
# side to REDUCED_SIDE x the model's input), so a batch never holds full-size
# photos; smaller ones are decoded whole, exactly as one-image analyses do.
FULL_DECODE_PIXELS = 16_000_000
REDUCED_SIDE = 2
MAX_SCAN_THREADS = 2  # in-process scans running at once per web worker; one more is refused "busy"


class ScanError(UserError):
    """A scan that cannot be started (unknown collection or model): 404."""

    status = 404


class ScanBusy(UserError):
    """Every scan slot of this worker is taken: try again later (429)."""

    status = 429


@dataclass(frozen=True)
class ScanPlan:
    collection: Collection
    model: str
    weights: str
    shard_size: int
    batch_size: int

    @property
    def base(self) -> str:
        return f"{self.collection.id}:{self.model}:{self.weights}:{self.collection.labels_digest()}"

    @property
    def shards(self) -> list[list[Member]]:
        images = self.collection.images
        return [images[i:i + self.shard_size] for i in range(0, len(images), self.shard_size)]

    def result_key(self) -> str:
        return f"scan:{self.base}"

    def shard_key(self, index: int) -> str:
        return f"shard:{self.base}:{self.shard_size}:{self.batch_size}:{index}"

    def progress_key(self, index: int) -> str:
        return f"progress:{self.base}:{index}"

    def job_key(self) -> str:
        return f"job:{self.base}"

    def cancel_key(self) -> str:
        return f"cancel:{self.base}"

    def beat_key(self) -> str:
        return f"beat:{self.base}"


Dispatch = Callable[["Scanner", ScanPlan], None]


class Scanner:
    """Plans, runs, tracks and merges scans. ``dispatch`` decides where the
    shards run: ``in_process`` (a background thread) or Celery tasks."""

    def __init__(self, blobs: BlobStore, collections: CollectionStore, image_store: Any, registry: Any,
                 shard_size: int, batch_size: int, dispatch: Dispatch | None = None) -> None:
        self.blobs = blobs
        self.collections = collections
        self.images = image_store
        self.registry = registry
        self.shard_size = shard_size
        self.batch_size = batch_size
        self.dispatch = dispatch or in_process
        # Decoded results this process has read (a few MB each for ResNet18).
        self._results = LruDict(max_cost=RESULT_CACHE_BYTES)
        self.threads: dict[str, threading.Thread] = {}
        self._starting = threading.Lock()  # the room check and the dispatch, one request at a time

    # -- plans and records

    def plan(self, collection_id: str, model: str, shard_size: int | None = None,
             batch_size: int | None = None) -> ScanPlan:
        """The plan of a scan; a worker passes the sender's shard and batch
        sizes, so both agree on the shards whatever each one's settings say."""
        collection = self.collections.require(collection_id)  # an evicted one says so (410)
        if collection is None:
            raise ScanError(_("There is no collection {id}.").format(id=repr(collection_id[:64])))
        try:
            loaded = self.registry.get(model)
        except Exception as exc:  # the registry's own message names the models it offers
            raise ScanError(str(exc)) from exc
        return ScanPlan(collection, model, loaded.weights.tag, shard_size or self.shard_size,
                        batch_size or self.batch_size)

    def _record(self, plan: ScanPlan) -> dict[str, Any]:
        blob = self.blobs.get(plan.job_key())
        return json.loads(blob) if blob else {}

    def _write_record(self, plan: ScanPlan, **fields: Any) -> None:
        record = {**self._record(plan), **fields, "updated": time.time()}
        self.blobs.put(plan.job_key(), json.dumps(record).encode())

    def done_images(self, plan: ScanPlan) -> int:
        done = 0
        for index in range(len(plan.shards)):
            blob = self.blobs.get(plan.progress_key(index))
            done += int(blob) if blob else 0
        return done

    # -- the public verbs

    def start(self, collection_id: str, model: str) -> dict[str, Any]:
        """Start (or resume) the scan unless it is finished or under way."""
        plan = self.plan(collection_id, model)
        status = self.status_of(plan)
        if status["state"] in ("done", "queued", "running"):
            return status
        with self._starting:
            self._check_room()
            self.blobs.delete(plan.cancel_key())
            done = self.done_images(plan)
            self._write_record(plan, state="queued", total=len(plan.collection.images), started=time.time(),
                               done_at_start=done, error=None)
            self.dispatch(self, plan)
        return self.status_of(plan)

    def _check_room(self) -> None:
        """Refuse a scan past MAX_SCAN_THREADS running in this process (Celery
        workers bound theirs by their concurrency and queue)."""
        self.threads = {base: thread for base, thread in self.threads.items() if thread.is_alive()}
        if len(self.threads) >= MAX_SCAN_THREADS:
            raise ScanBusy(_("The server is busy with {n} other scans; please try again in a few minutes.")
                           .format(n=len(self.threads)))

    def cancel(self, collection_id: str, model: str) -> dict[str, Any]:
        plan = self.plan(collection_id, model)
        if self.status_of(plan)["state"] in ("queued", "running"):
            self.blobs.put(plan.cancel_key(), b"1")
            self._write_record(plan, state="cancelled")
        return self.status_of(plan)

    def status(self, collection_id: str, model: str) -> dict[str, Any]:
        return self.status_of(self.plan(collection_id, model))

    def status_of(self, plan: ScanPlan) -> dict[str, Any]:
        total = len(plan.collection.images)
        if self.blobs.get(plan.result_key()) is not None:
            return {"state": "done", "done": total, "total": total, "rate": None, "eta_s": 0.0}
        record = self._record(plan)
        state = record.get("state", "none")
        done = self.done_images(plan)
        if state in ("queued", "running") and self.blobs.get(plan.cancel_key()) is not None:
            state = "cancelled"
        if state in ("queued", "running") and done > 0:
            state = "running"
        beat = self.blobs.get(plan.beat_key())
        last = max(float(beat) if beat else 0.0, float(record.get("updated", 0)))
        if state in ("queued", "running") and record.get("mode") == "in-process" and time.time() - last > STALE_S:
            state = "interrupted"  # its process went away; start resumes from the stored shards
        rate, waiting = scan_rate(record, done, float(beat) if beat else None, time.time(), plan.batch_size)
        waiting = state == "queued" or (state == "running" and waiting)
        # While waiting no estimate: one from an old rate would only grow.
        eta = (total - done) / rate if rate and not waiting else None
        return {"state": state, "done": done, "total": total, "rate": rate, "eta_s": eta, "waiting": waiting,
                "error": record.get("error")}

    def result(self, collection_id: str, model: str) -> ScanResult | None:
        plan = self.plan(collection_id, model)
        key = plan.result_key()
        cached = self._results.get(key)
        if cached is not None:
            return cached
        blob = self.blobs.get(key)
        if blob is None:
            return None
        result = from_bytes(blob)
        self._results.put(key, result, len(blob) * 4)  # compressed on the wire, about 4x in memory
        return result

    # -- the work

    def _items(self, members: list[Member], input_size: int) -> Iterator[ScanItem]:
        for member in members:
            item = self._large_item(member, input_size)
            if item is not None:
                yield item
                continue
            image = self.images.get(member.image)
            if image is None:
                raise ScanError(f"image {member.image} of the collection is missing from the image store")
            yield ScanItem(member.image, image, member.label)

    def _large_item(self, member: Member, input_size: int) -> ScanItem | None:
        """A large image decoded reduced (from its header: nothing decoded when it is not large)."""
        data = self.images.stored_bytes(member.image)
        if data is None:
            return None
        try:
            width, height = stored_size(data)
            if width * height <= FULL_DECODE_PIXELS:
                return None
            image, size = decode_reduced(data, REDUCED_SIDE * input_size)
        except IntakeError:
            return None  # the store's own read says what is wrong with it
        return ScanItem(member.image, image, member.label, size)

    def run_shard(self, plan: ScanPlan, index: int) -> bool:
        """Scan shard ``index`` unless stored; then finish the scan if it was
        the last. Returns False when the scan was cancelled."""
        if self.blobs.get(plan.result_key()) is not None:
            return True  # a late redelivery after the merge (its worker died after storing the shard)
        if self.blobs.get(plan.shard_key(index)) is None:
            members = plan.shards[index]
            loaded = self.registry.get(plan.model)

            def progress(done: int) -> None:
                # A resumed shard starts over from its first image: its count
                # never goes below what an earlier run had reached.
                stored = self.blobs.get(plan.progress_key(index))
                self.blobs.put(plan.progress_key(index), str(max(done, int(stored) if stored else 0)).encode())
                self.blobs.put(plan.beat_key(), str(time.time()).encode())

            try:
                part = scan(loaded, self._items(members, loaded.input_size), batch_size=plan.batch_size,
                            progress=progress,
                            should_stop=lambda: self.blobs.get(plan.cancel_key()) is not None)
            except ScanCancelled:
                return False
            part.extra["shard"] = index
            self.blobs.put(plan.shard_key(index), to_bytes(part))
        self.finish(plan)
        return True

    def finish(self, plan: ScanPlan) -> ScanResult | None:
        """Merge every shard in order once all are stored (idempotent: two
        shards finishing at once both write the same bytes)."""
        if self.blobs.get(plan.result_key()) is not None:
            return None
        blobs = [self.blobs.get(plan.shard_key(i)) for i in range(len(plan.shards))]
        if any(blob is None for blob in blobs):
            return None
        parts = [from_bytes(blob) for blob in blobs if blob is not None]
        result = parts[0]
        for part in parts[1:]:
            result = merge(result, part)
        result.extra = {"collection": plan.collection.id, "labels_digest": plan.collection.labels_digest()}
        self.blobs.put(plan.result_key(), to_bytes(result))
        self._write_record(plan, state="done")
        # The shards are in the result now; each is as large as it (Redis memory).
        for index in range(len(plan.shards)):
            self.blobs.delete(plan.shard_key(index))
            self.blobs.delete(plan.progress_key(index))
        self.blobs.delete(plan.beat_key())
        return result

    def fail(self, plan: ScanPlan, error: str) -> None:
        self._write_record(plan, state="failed", error=error)


def scan_rate(record: dict[str, Any], done: int, beat: float | None, now: float,
              batch_size: int) -> tuple[float | None, bool]:
    """Images per second since this run started, measured up to its last
    progress (so waiting does not lower it), and whether it is waiting: no
    progress yet in this run, or none for longer than three batches take."""
    started = float(record.get("started", now))
    fresh = done - int(record.get("done_at_start", 0))
    if beat is None or beat <= started:
        return None, True  # nothing done in this run yet
    if fresh <= 0:  # redoing what an earlier run had reached (a resumed shard)
        return None, now - beat > WAITING_S
    rate = fresh / (beat - started)
    return rate, now - beat > max(WAITING_S, 3 * batch_size / rate)


def in_process(scanner: Scanner, plan: ScanPlan) -> None:
    """The embedded default: the shards one after another in a daemon thread."""
    scanner._write_record(plan, mode="in-process")

    def run() -> None:
        try:
            for index in range(len(plan.shards)):
                if not scanner.run_shard(plan, index):
                    return
        except Exception as exc:  # reported on the job, not lost in a thread
            log.exception("scan %s failed", plan.base)
            scanner.fail(plan, str(exc))

    thread = threading.Thread(target=run, name=f"scan-{plan.collection.id[:8]}-{plan.model}", daemon=True)
    scanner.threads[plan.base] = thread
    thread.start()
