"""The collection scan: consistency with the single-image path, a planted
detector, the class selectivity formula, exact merges and the byte format."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dashapp.analysis.models.capture import capture
from dashapp.analysis.scan.scanner import ScanCancelled, ScanItem, scan, top_examples
from tests.support.planted import BLUE, EDGE, RED
from tests.support.planted_collection import RED_AT, image_id, planted_items


def test_top_images_of_the_red_detector_are_the_red_squares_with_boxes_on_them(planted, planted_result) -> None:
    examples = top_examples(planted_result, planted.layers["conv"], planted.input_size, RED, k=16)
    assert {e.image for e in examples[:3]} == {image_id(i) for i in RED_AT}
    assert all(e.value > 1.0 for e in examples[:3])
    assert all(e.value == 0.0 for e in examples[3:])  # the other images do not excite it at all
    for example in examples[:3]:
        x0, y0, x1, y1 = RED_AT[int(example.image, 16)]
        bx0, by0, bx1, by1 = example.box
        centre = ((bx0 + bx1) / 2, (by0 + by1) / 2)
        assert x0 <= centre[0] <= x1 and y0 <= centre[1] <= y1, (example, RED_AT[int(example.image, 16)])
        assert 0 <= bx0 < bx1 <= 120 and 0 <= by0 < by1 <= 90


def test_firing_rate_and_selectivity_tell_the_red_detector_from_an_all_responding_filter(planted_result) -> None:
    rate = planted_result.firing_rate("conv")
    assert rate[RED] == pytest.approx(3 / 40)
    assert rate[BLUE] == pytest.approx(1.0)
    selectivity = planted_result.selectivity("conv")
    assert selectivity is not None and np.isfinite(selectivity).all()
    assert selectivity[RED] > 0.9
    assert abs(selectivity[BLUE]) < 0.1
    assert planted_result.preferred_class("conv")[RED] == "red"


def test_selectivity_matches_the_formula_of_morcos_et_al_computed_by_hand(planted, planted_result) -> None:
    items = planted_items()
    peaks = {label: [] for label in ("plain", "red")}
    for item in items:
        maps = capture(planted, item.image).responses["conv"]
        peaks[item.label].append(maps.reshape(3, -1).max(axis=1))
    means = np.stack([np.mean(peaks[label], axis=0) for label in ("plain", "red")], axis=1)  # (C, 2)
    for f in (RED, BLUE, EDGE):
        mu_max, mu_rest = means[f].max(), means[f].min()  # two classes: the rest is the other one
        expected = (mu_max - mu_rest) / (mu_max + mu_rest) if mu_max + mu_rest > 0 else 0.0
        assert planted_result.selectivity("conv")[f] == pytest.approx(expected, abs=2e-3)
    np.testing.assert_allclose(planted_result.class_means("conv"), means, rtol=2e-3, atol=1e-4)


@pytest.mark.slow
def test_top1_equals_the_maximum_of_single_image_analyses(registry) -> None:
    loaded = registry.get("resnet18")
    rng = np.random.default_rng(3)
    items = [ScanItem(image_id(i), Image.fromarray(rng.integers(0, 256, (40 + 8 * i, 56, 3), dtype=np.uint8)))
             for i in range(6)]
    result = scan(loaded, items, batch_size=4)
    layers = ["conv1", "layer3.1.conv2"]
    single = [capture(loaded, item.image, layers).responses for item in items]
    for layer in layers:
        peaks = np.stack([maps[layer].reshape(maps[layer].shape[0], -1).max(axis=1) for maps in single])  # (N, C)
        top_value = result.layers[layer].values[:, 0]
        # float16 tolerance: what the app stores and shows.
        np.testing.assert_allclose(top_value, peaks.max(axis=0), rtol=2e-3, atol=2e-3)
        for f in range(peaks.shape[1]):
            chosen = result.image_ids[result.layers[layer].images[f, 0]]
            # The chosen image is the arg-max, or ties with it at this tolerance.
            assert peaks[int(chosen, 16), f] == pytest.approx(peaks[:, f].max(), rel=2e-3, abs=2e-3)


def test_mean_response_and_peak_are_averages_over_the_collection(planted, planted_result) -> None:
    single = [capture(planted, item.image).responses["conv"] for item in planted_items()]
    np.testing.assert_allclose(planted_result.mean_response("conv"), np.mean([m.mean(axis=(1, 2)) for m in single],
                                                                            axis=0), rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(planted_result.mean_peak("conv"), np.mean([m.max(axis=(1, 2)) for m in single],
                                                                        axis=0), rtol=1e-3, atol=1e-5)


def test_a_scan_stops_between_batches_when_asked(planted) -> None:
    seen: list[int] = []
    with pytest.raises(ScanCancelled):
        scan(planted, planted_items(), batch_size=8, progress=seen.append, should_stop=lambda: len(seen) >= 2)
    assert seen == [8, 16]
