"""Settings read from the environment: the feature visualization caps."""

from __future__ import annotations

import pytest

from dashapp.settings import SettingsError, load_settings


def test_featurevis_caps_default_and_read() -> None:
    defaults = load_settings({})
    assert (defaults.featurevis_max_steps, defaults.featurevis_max_size, defaults.featurevis_queue) == (1024, 320, 4)
    chosen = load_settings({"DASHAPP_FEATUREVIS_MAX_STEPS": "8", "DASHAPP_FEATUREVIS_MAX_SIZE": "64",
                            "DASHAPP_FEATUREVIS_QUEUE": "2"})
    assert (chosen.featurevis_max_steps, chosen.featurevis_max_size, chosen.featurevis_queue) == (8, 64, 2)


@pytest.mark.parametrize(
    ("name", "value"),
    [("DASHAPP_FEATUREVIS_MAX_STEPS", "0"), ("DASHAPP_FEATUREVIS_MAX_STEPS", "1000000"),
     ("DASHAPP_FEATUREVIS_MAX_SIZE", "16"), ("DASHAPP_FEATUREVIS_MAX_SIZE", "big"), ("DASHAPP_FEATUREVIS_QUEUE", "-1")],
)
def test_featurevis_caps_out_of_range_stop_the_start(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})
