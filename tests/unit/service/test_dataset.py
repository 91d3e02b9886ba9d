"""The dataset view of a scanned layer: sorting rules and what is shown."""

from __future__ import annotations

import numpy as np
from PIL import Image

from dashapp.analysis.scan.scanner import ScanItem, scan
from dashapp.service.dataset import CollectionLayer
from tests.support.planted import BLUE, EDGE, RED, planted_model, red_square_image


def test_sorts_and_the_filters_that_never_fire_come_last_for_selectivity() -> None:
    loaded = planted_model()
    blue = np.zeros((40, 60, 3), dtype=np.uint8)
    blue[..., 2] = 255
    items = [ScanItem(f"{i:064x}", red_square_image(60, 40, (10, 10, 30, 30)) if i < 2 else Image.fromarray(blue),
                      "red" if i < 2 else "plain") for i in range(6)]
    view = CollectionLayer(None, scan(loaded, items, batch_size=4), loaded.layers["conv"], loaded.input_size)
    rows = {row.index: row for row in view.summaries()}
    assert rows[RED].firing_rate == 2 / 6 and rows[BLUE].firing_rate == 1.0
    by_firing = view.sorted_summaries("firing")
    assert by_firing[-1].index == RED  # ties (1.0) go by peak, then index
    assert [r.firing_rate for r in by_firing] == sorted((r.firing_rate for r in by_firing), reverse=True)
    by_peak = [r.peak for r in view.sorted_summaries("peak")]
    assert by_peak == sorted(by_peak, reverse=True)
    selective = view.sorted_summaries("selectivity")
    firing = [r.firing_rate > 0 for r in selective]
    assert firing == sorted(firing, reverse=True)  # every firing filter before any silent one
    assert selective[0].index == RED and selective[0].preferred == "red"
    # Examples with a zero peak are kept by the scan (k slots) but never shown.
    assert len(view.top(RED)) == 6 and len(view.responding(RED)) == 2
    labels, means = view.class_means(RED)
    assert labels == ["plain", "red"] and means[0] == 0.0 and means[1] > 0
    assert all(r.selectivity is not None for r in rows.values()) and rows[EDGE].index == EDGE
