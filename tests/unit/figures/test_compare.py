"""The Compare page's overlaid layer profile."""

from __future__ import annotations

import numpy as np

from dashapp import i18n
from dashapp.figures.compare import SIDE_COLOURS, profile_overlay_figure


def test_both_profiles_overlaid_one_box_per_layer_and_side() -> None:
    rows_a = [{"layer": "conv1", "mean": np.array([1.0, 2.0]), "sparsity": np.array([0.1, 0.2])},
              {"layer": "conv2", "mean": np.array([3.0, 4.0, 5.0]), "sparsity": np.array([0.3, 0.4, 0.5])}]
    rows_b = [{**row, "mean": row["mean"] * 10} for row in rows_a]  # type: ignore[operator]
    fig = profile_overlay_figure([rows_a, rows_b], ["A: cat", "B: cup"], "mean", "Mean")
    assert [t.name for t in fig.data] == ["A: cat", "B: cup"] and fig.layout.boxmode == "group"
    assert [t.marker.color for t in fig.data] == list(SIDE_COLOURS)
    assert list(fig.data[0].x) == ["conv1", "conv1", "conv2", "conv2", "conv2"]
    np.testing.assert_allclose(fig.data[1].y, [10, 20, 30, 40, 50])
    sparsity = profile_overlay_figure([rows_a, rows_b], ["A", "B"], "sparsity", "Sparsity")
    np.testing.assert_allclose(sparsity.data[0].y, sparsity.data[1].y)


def test_the_overlay_carries_the_readers_decimal_mark() -> None:
    rows = [{"layer": "conv1", "mean": np.array([1.0]), "sparsity": np.array([0.1])}]
    with i18n.speaking("es"):
        assert profile_overlay_figure([rows, rows], ["A", "B"], "mean", "Media").layout.separators == ",."
    assert profile_overlay_figure([rows, rows], ["A", "B"], "mean", "Mean").layout.separators == ".,"
