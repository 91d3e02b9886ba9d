"""The page job's progress text and its following of another request's run."""

from __future__ import annotations

import contextlib
import contextvars
from types import SimpleNamespace
from typing import Any

import numpy as np

from dashapp import i18n
from dashapp.ui.callbacks import jobs as featurevis_job
from dashapp.ui.callbacks.jobs import _follow, _progress_text


def test_progress_text_names_filter_position_step_and_time_left() -> None:
    text = _progress_text(2, 6, 38, 120, 256, 14.2)
    assert text == "Optimizing filter 38 (2 of 6): step 120 of 256 · about 14 s left"
    assert _progress_text(1, 1, 5, 0, 256, None) == "Optimizing filter 5: step 0 of 256"


def test_follow_shows_another_requests_progress_until_it_is_done(monkeypatch: Any) -> None:
    answers = iter([
        {"state": "running", "step": 3, "steps": 12, "seconds_left": 9.0},
        {"state": "running", "step": 8, "steps": 12, "seconds_left": 4.0},
        {"state": "done", "step": 12, "steps": 12},
    ])
    service = SimpleNamespace(featurevis=SimpleNamespace(status=lambda _request: next(answers)))
    shown: list[tuple[Any, ...]] = []
    monkeypatch.setattr(featurevis_job, "FOLLOW_POLL_S", 0)
    assert _follow(shown.append, service, SimpleNamespace(filter=7), 1, 1) is True
    assert [s[0] for s in shown] == [25, 66]
    assert "step 8 of 12" in shown[1][1] and "another request" in shown[1][1]


def test_follow_returns_false_when_nobody_is_computing_it() -> None:
    service = SimpleNamespace(featurevis=SimpleNamespace(status=lambda _r: {"state": "absent", "step": 0, "steps": 4}))
    assert _follow(lambda _p: None, service, SimpleNamespace(filter=1), 1, 1) is False


def test_the_job_reports_progress_in_the_language_of_the_ready_state(monkeypatch: Any) -> None:
    # The job runs in a worker process with no request: only the ready state
    # tells it the page's language. A fresh context starts in English.
    jobs: list[Any] = []

    class Capture:
        def callback(self, *_args: Any, **_kwargs: Any) -> Any:
            return lambda func: jobs.append(func) or func

        def clientside_callback(self, *_args: Any, **_kwargs: Any) -> None:
            """The browser's half of the job (the tiles as they arrive): nothing to run here."""

    def compute(request: Any, on_step: Any, _stop: Any) -> None:
        for step in (1, 2):
            on_step(step, 4, np.zeros((4, 4, 3), dtype=np.uint8))

    fv = SimpleNamespace(
        request=lambda _m, _l, index, _o: SimpleNamespace(filter=int(index), settings=SimpleNamespace(steps=4)),
        meta=lambda _r: None, status=lambda _r: {"state": "absent", "step": 0, "steps": 4}, compute=compute,
        page_jobs=SimpleNamespace(slot=lambda: contextlib.nullcontext(0),
                                  stop_flag=lambda _job: SimpleNamespace(is_set=lambda: False)))
    featurevis_job.register_job(Capture(), SimpleNamespace(featurevis=fv), "fv", 8)  # type: ignore[arg-type]
    monkeypatch.setattr(featurevis_job, "PREVIEW_EVERY_S", -1.0)
    targets = {"model": "resnet18", "layer": "layer1.0.conv1", "objective": "channel", "filters": [3, 5]}

    def run(ready: dict[str, Any]) -> list[str]:
        shown: list[tuple[Any, ...]] = []
        contextvars.Context().run(jobs[0], shown.append, 1, targets, ready)
        return [progress[1] for progress in shown]  # (value, text, preview, finished)

    spanish = run({"lang": "es"})
    assert spanish[0] == "Optimizando el filtro 3 (1 de 2): paso 0 de 4"
    assert any(t.startswith("Optimizando el filtro 5 (2 de 2): paso 2 de 4 · quedan unos") for t in spanish)
    assert not any("Optimizing" in t or "left" in t for t in spanish)
    english = run({"lang": "en"})
    assert english[0] == "Optimizing filter 3 (1 of 2): step 0 of 4" and any("s left" in t for t in english)
    assert english[-1] == "Optimizing filter 5 (2 of 2): step 4 of 4"  # each one reports itself finished
    assert run({})[0] == english[0]  # no language said: English, whatever the last job spoke


def test_progress_text_in_spanish_uses_the_decimal_comma_free_seconds() -> None:
    with i18n.speaking("es"):
        text = _progress_text(1, 1, 7, 3, 10, 12.6)
    assert text == "Optimizando el filtro 7: paso 3 de 10 · quedan unos 13 s"
