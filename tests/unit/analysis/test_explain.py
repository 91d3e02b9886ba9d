"""The plain-language reading of a filter: sparsity bands and warnings."""

from __future__ import annotations

import numpy as np

from dashapp.analysis.explain import read_filter, sparsity_band
from dashapp.analysis.models import WeightsStatus
from dashapp.analysis.regions import find_regions
from dashapp.analysis.stats import filter_stats


def test_reading_bands_and_warnings() -> None:
    assert sparsity_band(0.8)[0] == "very selective"
    assert sparsity_band(0.5)[0] == "moderately selective"
    assert sparsity_band(0.2)[0] == "weakly selective"
    assert sparsity_band(0.05)[0] == "not selective"
    maps = np.zeros((2, 10, 10), dtype=np.float32)
    maps[0] = 1.0
    maps[1, :2, :2] = 3.0
    stats = filter_stats(maps)
    background = find_regions(maps[0], 100, 100).regions
    reading = read_filter(0, stats, background, WeightsStatus(False, "offline", 0), 0.05)
    text = " ".join(reading.warnings)
    assert "background" in text.lower() and "untrained" in text and "unsure" in text
    selective = read_filter(1, stats, find_regions(maps[1], 100, 100).regions, WeightsStatus(True), 0.9)
    assert selective.warnings == [] and selective.band == "very selective"
