"""The page job's progress text and its following of another request's run."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from dashapp.components import featurevis_job
from dashapp.components.featurevis_job import _follow, _progress_text


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
