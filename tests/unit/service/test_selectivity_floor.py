"""The selectivity sort leaves out filters that fire on too few images (a
minimum firing rate, 10 % unless the reader asks for another) and says how
many it left out; the other sorts leave none out."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dashapp.analysis.scan.scanner import ScanItem, scan
from dashapp.errors import UserError
from dashapp.service.dataset import MIN_FIRING_RATE, CollectionLayer, checked_min_firing
from tests.support.planted import BLUE, RED, planted_model, red_square_image


@pytest.fixture(scope="module")
def view() -> CollectionLayer:
    loaded = planted_model()
    blue = np.zeros((40, 60, 3), dtype=np.uint8)
    blue[..., 2] = 255
    # RED fires on 1 image of 12 (8 %): Morcos's index puts it first, on almost nothing.
    items = [ScanItem(f"{i:064x}", red_square_image(60, 40, (10, 10, 30, 30)) if i < 1 else Image.fromarray(blue),
                      "red" if i < 6 else "plain") for i in range(12)]
    return CollectionLayer(None, scan(loaded, items, batch_size=4), loaded.layers["conv"], loaded.input_size)


def test_the_default_floor_leaves_out_a_filter_firing_on_one_image_in_twelve(view: CollectionLayer) -> None:
    rates = {row.index: row.firing_rate for row in view.summaries()}
    assert rates[RED] == pytest.approx(1 / 12) and rates[BLUE] == 1.0
    everything, none_left = view.ranked("selectivity", 0.0)
    assert everything[0].index == RED and none_left == 0  # without the floor the nearly silent filter tops it
    rows, left_out = view.ranked("selectivity")
    below = [i for i, rate in rates.items() if rate < MIN_FIRING_RATE]
    assert RED in below and left_out == len(below)
    assert [r.index for r in rows] == [r.index for r in everything if r.index not in below]
    assert all(r.firing_rate >= MIN_FIRING_RATE for r in rows)
    assert view.sorted_summaries("selectivity") == rows


def test_a_floor_the_reader_sets_and_the_other_sorts(view: CollectionLayer) -> None:
    rows, left_out = view.ranked("selectivity", 1.0)
    assert all(r.firing_rate == 1.0 for r in rows) and left_out == 3 - len(rows)
    for sort in ("peak", "firing"):
        ranked, none_left = view.ranked(sort, 1.0)
        assert none_left == 0 and len(ranked) == 3


def test_the_floor_a_reader_asks_for_is_checked() -> None:
    assert checked_min_firing(None) == checked_min_firing("") == MIN_FIRING_RATE == 0.10
    assert checked_min_firing("0.25") == 0.25 and checked_min_firing("0") == 0.0 and checked_min_firing("1") == 1.0
    for bad in ("-0.1", "1.5", "nan", "ten", "inf"):
        with pytest.raises(UserError) as caught:
            checked_min_firing(bad)
        assert caught.value.status == 400 and "min_firing_rate" in caught.value.message
