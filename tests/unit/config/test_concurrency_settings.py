"""The web worker's concurrency knobs are bounded settings: threads per
operation (DASHAPP_COMPUTE_THREADS) and forward passes at once
(DASHAPP_FILLS_AT_ONCE), the latter handed to the activation store."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dashapp.config.settings import SettingsError, load_settings
from dashapp.service import Analyzer


def test_defaults_and_values_read() -> None:
    defaults = load_settings({})
    assert (defaults.compute_threads, defaults.fills_at_once) == (1, 2)
    chosen = load_settings({"DASHAPP_COMPUTE_THREADS": "2", "DASHAPP_FILLS_AT_ONCE": "16"})
    assert (chosen.compute_threads, chosen.fills_at_once) == (2, 16)


@pytest.mark.parametrize(
    ("name", "value"),
    [("DASHAPP_COMPUTE_THREADS", "0"), ("DASHAPP_COMPUTE_THREADS", "65"), ("DASHAPP_COMPUTE_THREADS", "all"),
     ("DASHAPP_FILLS_AT_ONCE", "0"), ("DASHAPP_FILLS_AT_ONCE", "17"), ("DASHAPP_FILLS_AT_ONCE", "-1")],
)
def test_out_of_range_stops_the_start(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})


@pytest.mark.parametrize("at_once", [1, 3])
def test_the_store_computes_as_many_fills_at_once_as_set(make_analyzer: Callable[..., Analyzer],
                                                          at_once: int) -> None:
    gate = make_analyzer(fills_at_once=at_once).activations._fill_gate
    assert gate._value == at_once
