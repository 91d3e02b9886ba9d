"""A scan's progress as the Dataset page shows it: it never goes back when a
scan resumes, its time-left estimate never grows while the scan waits, and
the bar stops being striped once the scan is done."""

from __future__ import annotations

import pytest

from dashapp import i18n
from dashapp.collections.scanning import WAITING_S, Scanner, scan_rate
from dashapp.ui.layout.dataset_widgets import progress_bar, progress_text
from tests.unit.collections.test_scanning import scanner_of, setup  # noqa: F401  (the fixture)


def test_a_resumed_shard_never_counts_below_what_an_earlier_run_reached(setup) -> None:  # noqa: F811
    scanner: Scanner = scanner_of(setup, dispatch=lambda scanner, plan: None, shard=8, batch=2)
    collection = setup[3]
    scanner.start(collection.id, "planted")
    plan = scanner.plan(collection.id, "planted")
    scanner.blobs.put(plan.progress_key(0), b"6")  # an earlier run had scanned 6 of shard 0's 8 images
    seen: list[int] = []
    put = scanner.blobs.put

    def watched(key: str, value: bytes) -> None:
        put(key, value)
        if key.startswith("progress:"):
            seen.append(scanner.status(collection.id, "planted")["done"])

    scanner.blobs.put = watched  # type: ignore[method-assign]
    assert scanner.run_shard(plan, 0)
    assert len(seen) == 4 and seen == sorted(seen) and min(seen) == 6 and seen[-1] == 8  # 6, 6, 6, 8: not 2, 4
    assert scanner.status(collection.id, "planted")["done"] == 8


def test_the_rate_is_measured_up_to_the_last_progress_and_waiting_has_no_estimate() -> None:
    record = {"started": 100.0, "done_at_start": 0}
    assert scan_rate(record, 0, None, 130.0, 4) == (None, True)  # queued: nothing done in this run yet
    assert scan_rate(record, 40, 90.0, 130.0, 4) == (None, True)  # the last beat is an earlier run's
    rate, waiting = scan_rate(record, 40, 120.0, 121.0, 4)
    assert rate == pytest.approx(2.0) and not waiting
    later, waiting_later = scan_rate(record, 40, 120.0, 121.0 + WAITING_S + 10, 4)
    assert later == pytest.approx(2.0) and waiting_later  # the rate stays; it is waiting now
    # Redoing a resumed shard's images: no rate, working while beats come.
    assert scan_rate({"started": 100.0, "done_at_start": 64}, 64, 110.0, 111.0, 4) == (None, False)


def test_the_status_line_says_waiting_instead_of_a_growing_estimate() -> None:
    waiting = {"state": "running", "done": 32, "total": 128, "rate": 2.0, "eta_s": None, "waiting": True}
    assert progress_text(waiting) == "Scanning: 32 of 128 images · 2.0 images/s · waiting for a free worker."
    queued = {"state": "queued", "done": 0, "total": 128, "rate": None, "eta_s": None, "waiting": True}
    assert "waiting for a free worker" in progress_text(queued) and "left" not in progress_text(queued)
    with i18n.speaking("es"):
        assert "esperando a un proceso libre" in progress_text(queued)


def test_the_bar_is_striped_only_while_the_scan_runs() -> None:
    assert progress_bar({"state": "running", "done": 32, "total": 128}) == {
        "value": 25.0, "striped": True, "animated": True}
    assert progress_bar({"state": "queued", "done": 0, "total": 128})["striped"]
    assert progress_bar({"state": "done", "done": 128, "total": 128}) == {
        "value": 100.0, "striped": False, "animated": False}
    for state in ("cancelled", "interrupted", "failed", "none"):
        bar = progress_bar({"state": state, "done": 3, "total": 12})
        assert not bar["striped"] and not bar["animated"] and bar["value"] == 25.0
    assert progress_bar({"state": "none", "done": 0, "total": 0})["value"] == 0.0
