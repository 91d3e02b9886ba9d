"""guarded: a page callback's failure fills every named output, with no count
to keep in step with the outputs."""

from __future__ import annotations

from typing import Any

import pytest
from dash import Output, no_update

from dashapp.errors import UserError
from dashapp.pages._common import guarded
from tests.support.dash_harness import alert_text

OUTPUTS = {"error": Output("t-error", "children"), "title": Output("t-title", "children"),
           "figure": Output("t-figure", "figure")}


def test_a_failure_shows_its_message_and_leaves_every_other_output_alone() -> None:
    @guarded(OUTPUTS)
    def render(ready: dict[str, Any]) -> dict[str, Any]:
        raise UserError("That layer is gone.")

    out = render({"model": "x"})
    assert set(out) == set(OUTPUTS)
    assert alert_text(out.pop("error")) == "That layer is gone."
    assert all(value is no_update for value in out.values())


def test_an_unexpected_failure_is_logged_and_worded(caplog: pytest.LogCaptureFixture) -> None:
    @guarded(OUTPUTS, error="title")
    def render(ready: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("internal detail")

    out = render({"model": "x"})
    assert "Something went wrong" in alert_text(out.pop("title")) and "internal" not in str(out)
    assert all(value is no_update for value in out.values())
    assert "page callback render failed" in caplog.text


def test_no_ready_state_changes_nothing_and_success_passes_through() -> None:
    @guarded(OUTPUTS)
    def render(ready: dict[str, Any]) -> dict[str, Any]:
        return {"error": None, "title": "t", "figure": {}}

    assert render(None) == dict.fromkeys(OUTPUTS, no_update)
    assert render({"model": "x"}) == {"error": None, "title": "t", "figure": {}}


def test_a_single_output_callback_shows_the_message_itself() -> None:
    @guarded()
    def panel(ready: dict[str, Any]) -> Any:
        raise UserError("Nothing to show.")

    assert alert_text(panel({"model": "x"})) == "Nothing to show."
    assert panel(None) is no_update


def test_an_error_output_that_is_not_there_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="'message'"):
        guarded(OUTPUTS, error="message")
