"""A sanity check asked for while the server's slots are taken says it is
queued at once (announced beside the panel), and a second request waits for
its turn and then shows the result (issue 25: "a waiting request says it is
queued")."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from dash import Dash, no_update

from dashapp.service import evidence as service_evidence
from tests.support.dash_harness import find_callback, run_callback, sync_state


def _hold_every_slot() -> int:
    held = 0
    while service_evidence._SANITY_SLOTS.acquire(blocking=False):
        held += 1
    return held


def test_a_check_behind_a_running_one_says_queued_then_shows_its_result(make_app: Callable[..., Dash],
                                                                         monkeypatch) -> None:
    app = make_app()  # its own store: the result it computes is no other test's
    monkeypatch.setattr(service_evidence, "SANITY_WAIT_S", 120.0)
    ready = sync_state(app, "?lang=en")["ready-state.data"]
    run = find_callback(app, "evidence-sanity-wait.data")
    wait = find_callback(app, "evidence-sanity-queue.children@")
    held = _hold_every_slot()
    assert held == service_evidence.MAX_CONCURRENT_SANITY
    try:
        asked = run_callback(run, "evidence-sanity-run.n_clicks", ready, 1)
    except BaseException:
        for _ in range(held):
            service_evidence._SANITY_SLOTS.release()
        raise
    assert asked["queue"].startswith("Queued: another sanity check is running")
    assert asked["panel"] is no_update and asked["wait"] == 1

    answer: dict[str, Any] = {}
    waiting = threading.Thread(target=lambda: answer.update(run_callback(wait, None, asked["wait"], ready)))
    waiting.start()
    waiting.join(0.5)
    assert waiting.is_alive()  # it waits for its turn, computing nothing yet
    for _ in range(held):
        service_evidence._SANITY_SLOTS.release()
    waiting.join(300)
    assert not waiting.is_alive()
    assert answer["queue"] is None
    assert "sanity-verdict" in str(answer["panel"])  # the verdict and its figure, not a message
    # The result is stored: asked again, it is shown at once, not queued.
    again = run_callback(run, "evidence-sanity-run.n_clicks", ready, 2)
    assert again["queue"] is None and "sanity-verdict" in str(again["panel"])


def test_the_queued_words_are_spanish_in_spanish(make_app: Callable[..., Dash]) -> None:
    app = make_app()
    ready = sync_state(app, "?lang=es")["ready-state.data"]
    held = _hold_every_slot()
    try:
        asked = run_callback(find_callback(app, "evidence-sanity-wait.data"), "evidence-sanity-run.n_clicks",
                             ready, 1)
    finally:
        for _ in range(held):
            service_evidence._SANITY_SLOTS.release()
    assert asked["queue"].startswith("En cola")
