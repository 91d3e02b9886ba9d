"""A filter silent on every image of a collection prefers no class: the
scan, the filter summaries (page and API) and the words shown say so instead
of naming the first label ("selectivity 0.00 (cat)")."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from dashapp import i18n
from dashapp.analysis.scan.scanner import ScanItem, scan
from dashapp.service.dataset import CollectionLayer
from dashapp.ui.layout.dataset_widgets import summary_line
from tests.support.planted import EDGE, RED, planted_model, red_square_image


@pytest.fixture(scope="module")
def view() -> CollectionLayer:
    loaded = planted_model()
    with torch.no_grad():  # filter EDGE answers 0 to everything: a dead filter
        loaded.module.conv.weight[EDGE].zero_()
        loaded.module.conv.bias[EDGE] = 0.0
    blue = np.zeros((40, 60, 3), dtype=np.uint8)
    blue[..., 2] = 255
    # "aardvark" sorts first: argmax over all-zero class means would name it.
    items = [ScanItem(f"{i:064x}", red_square_image(60, 40, (10, 10, 30, 30)) if i < 2 else Image.fromarray(blue),
                      "red" if i < 2 else "aardvark") for i in range(6)]
    return CollectionLayer(None, scan(loaded, items, batch_size=4), loaded.layers["conv"], loaded.input_size)


def test_a_dead_filter_has_no_preferred_class(view: CollectionLayer) -> None:
    assert view.result.preferred_class("conv")[EDGE] is None
    rows = {row.index: row for row in view.summaries()}
    dead = rows[EDGE]
    assert dead.firing_rate == 0 and dead.peak == 0 and dead.preferred is None
    assert dead.as_dict()["preferred_class"] is None
    assert rows[RED].preferred == "red"  # a live filter keeps its class


def test_the_words_say_it_is_silent_not_selective_for_the_first_label(view: CollectionLayer) -> None:
    rows = {row.index: row for row in view.summaries()}
    said = summary_line(rows[EDGE])
    assert "aardvark" not in said and "selectivity" not in said
    assert "silent on every image: no preferred class" in said
    assert "selectivity" in summary_line(rows[RED]) and "(red)" in summary_line(rows[RED])
    with i18n.speaking("es"):
        assert "silencioso en todas las imágenes" in summary_line(rows[EDGE])
