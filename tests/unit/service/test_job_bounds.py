"""Work one client can start is bounded on the server: a page job's size, the
page jobs and the in-process scans running at once (past the bound: "busy,
try again", 429)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from dashapp.collections import CollectionLimits, CollectionStore, FileBlobStore, build_collection, from_files
from dashapp.collections.scanning import MAX_SCAN_THREADS, Scanner, in_process
from dashapp.errors import UserError
from dashapp.pages.featurevis import MAX_TILES
from dashapp.service.page_jobs import new_job_id
from dashapp.store import FileImageStore
from dashapp.ui.callbacks.jobs import cancelled_status, job_requests
from tests.support.noise_collection import png


@pytest.fixture(scope="module")
def service(make_analyzer: Any) -> Any:
    return make_analyzer()


def targets(filters: list[Any]) -> dict[str, Any]:
    return {"model": "resnet18", "layer": "layer1.0.conv1", "objective": "channel", "filters": filters}


def test_a_page_job_asks_for_no_more_filters_than_the_page_shows(service) -> None:
    assert len(job_requests(service, targets(list(range(MAX_TILES))), MAX_TILES)) == MAX_TILES
    with pytest.raises(UserError, match=f"at most {MAX_TILES} filters"):
        job_requests(service, targets(list(range(512))), MAX_TILES)  # a forged 512-filter job
    with pytest.raises(UserError):
        job_requests(service, {**targets([]), "filters": "0,1,2"}, MAX_TILES)


def test_page_jobs_past_the_hosts_slots_are_refused_busy_at_once(service) -> None:
    jobs = service.featurevis
    with jobs.page_jobs.slot():
        for _forged in range(8):
            with pytest.raises(UserError, match="busy") as refused, jobs.page_jobs.slot():
                pass
            assert refused.value.status == 429
    with jobs.page_jobs.slot():  # freed when the job ends
        pass


def test_a_cancel_counts_what_the_job_stored_before_it_stopped(service) -> None:
    # The browser's last progress said nothing was finished; the job stores
    # one more visualization after the cancel is asked for, then stops: the
    # cancel's words count what is stored then (the page shows that many).
    jobs = service.featurevis
    missing = job_requests(service, targets([60, 61]), MAX_TILES)
    job, taken, release = new_job_id(), threading.Event(), threading.Event()
    slots: list[int] = []

    def run() -> None:
        with jobs.page_jobs.slot() as slot:
            slots.append(slot)
            taken.set()
            flag = jobs.page_jobs.stop_flag(job)
            while not flag.is_set():
                time.sleep(0.01)
            time.sleep(0.3)  # a step's worth of work still under way
            jobs.store.put_blob(f"{missing[0].key}:meta", b'{"mean_response": 1.0}')
            flag.acknowledge()
            release.wait(30)  # the process lives on a while: the ack, not the slot, ends the wait

    worker = threading.Thread(target=run)
    worker.start()
    try:
        assert taken.wait(10)
        finished = {"job": job, "slot": slots[0], "filters": [60, 61]}
        assert cancelled_status(service, finished, targets([]), MAX_TILES) == (
            "Cancelled after 1 of 2; the finished ones are kept.")
        assert worker.is_alive()  # its slot still held: the job's answer ended the wait
    finally:
        release.set()
        worker.join()
        jobs.store.delete_blob(f"{missing[0].key}:meta")
    # A forged job, slot or filter list counts no more than the page's own, at once.
    assert cancelled_status(service, {"job": "x", "slot": 99, "filters": [60, "x"]}, targets([]), MAX_TILES) == (
        "Cancelled after 0 of 1; the finished ones are kept.")


def test_a_cancel_of_a_killed_job_does_not_wait_for_an_answer(service) -> None:
    # Dash's own cancel kills the job's process: it never reads the marker,
    # and its slot is free once it is gone.
    pages = service.featurevis.page_jobs
    job = new_job_id()
    with pages.slot() as slot:
        pass  # the job ran here and was killed
    asked = time.monotonic()
    assert pages.stop(job, slot, timeout_s=60)  # True: not timed out
    assert time.monotonic() - asked < 30
    assert pages.stop_flag(job).is_set() is False  # the marker is not left behind


class Registry:
    """What the scanner asks of a registry, for plans only: no shard runs here."""

    def get(self, name: str) -> Any:
        return type("Loaded", (), {"weights": type("Weights", (), {"tag": "w"})()})()


def test_in_process_scans_past_the_bound_are_refused_busy(tmp_path: Path, monkeypatch) -> None:
    images = FileImageStore(tmp_path / "images", max_pixels=40_000_000)
    blobs = FileBlobStore(tmp_path / "blobs")
    collections = CollectionStore(blobs)
    release = threading.Event()
    monkeypatch.setattr(Scanner, "run_shard", lambda self, plan, index: release.wait(30))
    scanner = Scanner(blobs, collections, images, Registry(), shard_size=8, batch_size=4, dispatch=in_process)
    made = [collections.put(build_collection(f"c{i}", from_files([(f"{i}.png", png(i))], CollectionLimits()),
                                             images)) for i in range(MAX_SCAN_THREADS + 1)]
    try:
        for collection in made[:MAX_SCAN_THREADS]:
            assert scanner.start(collection.id, "m")["state"] == "queued"
        with pytest.raises(UserError, match="busy") as refused:
            scanner.start(made[-1].id, "m")
        assert refused.value.status == 429
        assert scanner.status(made[-1].id, "m")["state"] == "none"  # nothing recorded for the refused scan
    finally:
        release.set()
    for thread in list(scanner.threads.values()):
        thread.join(10)
    assert scanner.start(made[-1].id, "m")["state"] in ("queued", "running")  # room again
