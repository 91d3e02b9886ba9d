"""A map's words never contradict its peak: a map with a responding cell is
not "silent on 100 %" of the image, nor one with silent cells "silent on 0 %"."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dashapp import i18n
from dashapp.wording.maps import describe_map, silent_share

SILENT = re.compile(r"silent on ([0-9.]+)% of it")


def one_cell(rows: int, cols: int, value: float = 0.126) -> np.ndarray:
    fmap = np.zeros((rows, cols), dtype=np.float32)
    fmap[rows // 2, cols // 3] = value
    return fmap


@pytest.mark.parametrize("shape", [(16, 16), (28, 28), (56, 56), (112, 112)])
def test_one_responding_cell_is_not_silence_everywhere(shape: tuple[int, int]) -> None:
    text = describe_map(one_cell(*shape), "Filter 7")
    assert "peak response 0.126" in text
    match = SILENT.search(text)
    assert match, text
    assert 0 < float(match.group(1)) < 100, text


def test_one_silent_cell_is_not_silence_nowhere() -> None:
    fmap = np.ones((56, 56), dtype=np.float32)
    fmap[3, 3] = 0.0
    match = SILENT.search(describe_map(fmap, "Filter 7"))
    assert match and 0 < float(match.group(1)) < 100


def test_whole_percentages_stay_whole() -> None:
    assert silent_share(0.5) == "50%"
    assert silent_share(0.0) == "0%"
    assert silent_share(143 / 144) == "99%"
    assert silent_share(255 / 256) == "99.6%"
    with i18n.speaking("es"):
        assert silent_share(255 / 256) == "99,6\xa0%"
