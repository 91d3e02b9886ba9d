"""Concept test jobs: started once per request key, run in the background,
followed (done/total, time left), cancelled, stored.

Where a job runs follows the scans (``collections.scanning``): with
``DASHAPP_REDIS_URL`` one Celery task per job on the workers
(``dashapp.worker``; acknowledged late, so a worker killed mid-job has the
job delivered again and run from the start), without it a daemon thread of
this process. Both run ``work.compute`` on the same stores, so both store
the same result.

Blob keys (``key`` = the request's hash, which is the job id):
``tcav:key`` the result, ``tcav-request:key`` the request, ``tcav-job:key``
the record (state, started, error), ``tcav-progress:key`` "done total",
``tcav-cancel:key`` the cancel flag.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from ...errors import UserError
from ...i18n import _
from .request import ConceptRequest, check_request
from .work import compute, plan, total

log = logging.getLogger(__name__)

CONCEPT_TASK = "dashapp.concept_test"
STALE_S = 120.0  # an in-process job silent this long died with its process
PROGRESS_EVERY_S = 0.5
JOB_ID = re.compile(r"^[0-9a-f]{64}$")
ACTIVE = ("queued", "running")

Dispatch = Callable[["ConceptJobs", str], None]


class Cancelled(Exception):
    """The job's cancel flag was set."""


class ConceptJobs:
    def __init__(self, blobs: Any, collections: Any, image_store: Any, registry: Any,
                 dispatch: Dispatch | None = None) -> None:
        self.blobs = blobs
        self.collections = collections
        self.images = image_store
        self.registry = registry
        self.dispatch = dispatch or in_process
        self.threads: dict[str, threading.Thread] = {}
        # With DASHAPP_AUTH on (runtime.service_jobs): who started a job, and only they may cancel it.
        self.started: Callable[[str], None] = lambda _job: None
        self.may_cancel: Callable[[str], None] = lambda _job: None

    # -- records

    def _get_json(self, key: str) -> dict[str, Any]:
        blob = self.blobs.get(key)
        return json.loads(blob) if blob else {}

    def _write_record(self, job: str, **fields: Any) -> None:
        record = {**self._get_json(f"tcav-job:{job}"), **fields, "updated": time.time()}
        self.blobs.put(f"tcav-job:{job}", json.dumps(record).encode())

    def request_of(self, job: str) -> ConceptRequest:
        blob = self.blobs.get(f"tcav-request:{job}") if JOB_ID.match(job or "") else None
        if blob is None:
            raise UserError(_("There is no concept test {id}.").format(id=repr(str(job)[:64])), 404)
        return ConceptRequest.from_json(blob)

    # -- the public verbs

    def start(self, body: Any) -> str:
        """Check ``body``, start its job unless it is done or under way; the job id."""
        request = check_request(body, self.registry, self.collections)
        job = request.key
        self.blobs.put(f"tcav-request:{job}", request.to_json())
        if self.status(job)["state"] in ("done", *ACTIVE):
            return job
        self.blobs.delete(f"tcav-cancel:{job}")
        self.blobs.delete(f"tcav-progress:{job}")
        # A new run token: a run of an earlier start still going (cancelled, or delivered again) sees it and stops.
        self._write_record(job, state="queued", started=time.time(), error=None, mode=None, run=uuid.uuid4().hex)
        self.dispatch(self, job)
        self.started(job)
        return job

    def cancel(self, job: str) -> dict[str, Any]:
        self.request_of(job)
        self.may_cancel(job)
        if self.status(job)["state"] in ACTIVE:
            self.blobs.put(f"tcav-cancel:{job}", b"1")
            self._write_record(job, state="cancelled")
        return self.status(job)

    def status(self, job: str) -> dict[str, Any]:
        """{id, state, done, total, eta_s, error, results}: results once done (else empty)."""
        request = self.request_of(job)
        result = self.result(job)
        if result is not None:
            count = self._progress(job)[1]
            return {"id": job, "state": "done", "done": count, "total": count, "eta_s": 0.0, "error": None,
                    "request": request.as_dict(), "results": result["results"]}
        record = self._get_json(f"tcav-job:{job}")
        state = record.get("state", "none")
        done, count = self._progress(job)
        if state in ACTIVE and self.blobs.get(f"tcav-cancel:{job}") is not None:
            state = "cancelled"
        if state == "queued" and done > 0:
            state = "running"
        beat = float(record.get("beat", record.get("updated", 0)))
        if state in ACTIVE and record.get("mode") == "in-process" and time.time() - beat > STALE_S:
            state = "interrupted"  # its process went away; starting again runs it anew
        elapsed = time.time() - float(record.get("running_since") or time.time())
        eta = elapsed / done * (count - done) if state == "running" and done > 0 and count else None
        return {"id": job, "state": state, "done": done, "total": count, "eta_s": eta, "error": record.get("error"),
                "request": request.as_dict(), "results": []}

    def result(self, job: str) -> dict[str, Any] | None:
        blob = self.blobs.get(f"tcav:{job}")
        return json.loads(blob) if blob is not None else None

    def _progress(self, job: str) -> tuple[int, int]:
        blob = self.blobs.get(f"tcav-progress:{job}")
        if not blob:
            return 0, 0
        done, count = blob.split()
        return int(done), int(count)

    # -- the work

    def run(self, job: str) -> bool:
        """Compute and store the job's result (nothing when stored already);
        False when it was cancelled."""
        if self.blobs.get(f"tcav:{job}") is not None:
            return True  # a redelivery after the result was stored
        request = self.request_of(job)
        cancel_key, progress_key = f"tcav-cancel:{job}", f"tcav-progress:{job}"
        used = plan(request, self.collections)
        count = total(request, used)
        done, last = 0, 0.0
        token = self._get_json(f"tcav-job:{job}").get("run")
        self.blobs.put(progress_key, f"0 {count}".encode())
        self._write_record(job, state="running", running_since=time.time(), beat=time.time())

        def tick(units: int) -> None:
            nonlocal done, last
            done += units
            now = time.time()
            if now - last >= PROGRESS_EVERY_S or done == count:
                last = now
                if self.blobs.get(cancel_key) is not None or self._get_json(f"tcav-job:{job}").get("run") != token:
                    raise Cancelled
                self.blobs.put(progress_key, f"{done} {count}".encode())
                self._write_record(job, beat=now)

        try:
            payload = compute(request, used, self.registry, self.collections, self.images, tick)
        except Cancelled:
            return False
        self.blobs.put(f"tcav:{job}", json.dumps(payload).encode())
        self.blobs.put(progress_key, f"{count} {count}".encode())
        self._write_record(job, state="done")
        return True

    def fail(self, job: str, error: str) -> None:
        self._write_record(job, state="failed", error=error)


def in_process(jobs: ConceptJobs, job: str) -> None:
    """The embedded default: the job in a daemon thread of this process."""
    jobs._write_record(job, mode="in-process")

    def work() -> None:
        try:
            jobs.run(job)
        except Exception as exc:  # reported on the job, not lost in a thread
            log.exception("concept test %s failed", job)
            jobs.fail(job, str(exc))

    thread = threading.Thread(target=work, name=f"tcav-{job[:8]}", daemon=True)
    jobs.threads[job] = thread
    thread.start()
