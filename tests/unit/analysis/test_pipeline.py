"""The analysis engine on planted ground truth and on the real architectures."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from dashapp.analysis.capture import capture, preprocess
from dashapp.analysis.explain import read_filter, sparsity_band
from dashapp.analysis.graph import ReceptiveField, analyse_graph
from dashapp.analysis.kernels import kernel_pictures
from dashapp.analysis.models import ModelRegistry, WeightsStatus
from dashapp.analysis.patches import receptive_box, top_patches
from dashapp.analysis.regions import find_regions, size_class
from dashapp.analysis.stats import filter_stats, layer_stats, rank_filters
from tests.conftest import EXAMPLES
from tests.support.planted import BLUE, EDGE, RED, planted_model, red_square_image


@pytest.fixture(scope="module")
def planted():
    return planted_model()


# ---------------------------------------------------------------- planted ground truth


def test_balanced_ranks_selective_red_detector_above_background_blue(planted) -> None:
    result = capture(planted, red_square_image())
    stats = filter_stats(result.responses["conv"])
    # The blue detector has the larger mean: "mean" puts the background first...
    assert stats.mean[BLUE] > stats.mean[RED]
    assert rank_filters(stats, "mean", 3).filters[0].index == BLUE
    # ...while "balanced" prefers the selective red detector.
    balanced = rank_filters(stats, "balanced", 3, min_sparsity=0.15, weight=0.5)
    order = [f.index for f in balanced.filters]
    assert order.index(RED) < order.index(BLUE)
    assert balanced.filters[0].index == RED


@pytest.mark.parametrize(
    ("size", "box"),
    [((300, 200), (60, 50, 120, 110)), ((200, 320), (120, 30, 180, 150)), ((224, 224), (100, 100, 160, 140))],
)
def test_red_detector_box_matches_square_in_original_pixels(planted, size, box) -> None:
    image = red_square_image(*size, box=box)
    maps = capture(planted, image).responses["conv"]
    regions = find_regions(maps[RED], image.width, image.height).regions
    assert regions, "the red detector found no region"
    best = regions[0]
    for got, want in zip((best.x0, best.y0, best.x1, best.y1), box, strict=True):
        assert abs(got - want) <= 3, (best, box)
    area = (box[2] - box[0]) * (box[3] - box[1]) / (size[0] * size[1])
    assert best.area_fraction == pytest.approx(area, rel=0.15)
    assert best.size_class == size_class(best.area_fraction)


def test_edge_detector_fires_on_horizontal_edges_only(planted) -> None:
    image = red_square_image(300, 200, box=(60, 50, 120, 110))
    maps = capture(planted, image).responses["conv"]
    regions = find_regions(maps[EDGE], image.width, image.height).regions
    assert regions
    for region in regions:
        # Thin horizontal strips: much wider than tall.
        assert (region.x1 - region.x0) > 3 * (region.y1 - region.y0)


def test_patches_of_red_detector_lie_on_the_square(planted) -> None:
    image = red_square_image(300, 200, box=(60, 50, 120, 110))
    maps = capture(planted, image).responses["conv"]
    info = planted.layers["conv"]
    patches = top_patches(maps[RED], info.receptive_field, planted.input_size, image.width, image.height)
    assert len(patches) == 3
    for patch in patches:
        cx, cy = (patch.x0 + patch.x1) / 2, (patch.y0 + patch.y1) / 2
        assert 55 <= cx <= 125 and 45 <= cy <= 115
    centres = {(p.row, p.col) for p in patches}
    assert len(centres) == 3  # distinct peaks


def test_first_layer_kernel_colours(planted) -> None:
    pictures = kernel_pictures(planted, "conv", [RED, BLUE])
    assert pictures.applies and pictures.rgb is not None and pictures.channels is not None
    red_centre = pictures.rgb[0, 1, 1]
    assert red_centre[0] > 0.9 and red_centre[2] < 0.1 and abs(red_centre[1] - 0.5) < 1e-6
    # One scale for the layer: the weak blue detector looks weaker.
    assert abs(pictures.channels[1, 2, 1, 1]) < abs(pictures.channels[0, 0, 1, 1])


# ---------------------------------------------------------------- real architectures


def test_layers_are_listed_with_sizes(registry: ModelRegistry) -> None:
    resnet = registry.get("resnet18")
    assert list(resnet.layers)[:3] == ["conv1", "layer1.0.conv1", "layer1.0.conv2"]
    assert "layer2.0.downsample.0" in resnet.layers
    conv1 = resnet.layers["conv1"]
    assert (conv1.out_channels, conv1.in_channels, conv1.kernel_size, conv1.map_size) == (64, 3, (7, 7), (112, 112))
    assert resnet.layers["layer2.0.conv1"].map_size == (28, 28)
    assert resnet.layers["conv1"].norm == "bn1"
    assert conv1.sees_image and not resnet.layers["layer1.0.conv1"].sees_image
    alexnet = registry.get("alexnet")
    assert list(alexnet.layers) == ["features.0", "features.3", "features.6", "features.8", "features.10"]
    assert alexnet.layers["features.0"].kernel_size == (11, 11)
    assert alexnet.layers["features.0"].map_size == (55, 55)
    assert len(resnet.categories) == 1000 and resnet.categories[0] == "tench"


def test_receptive_fields_follow_the_network() -> None:
    import torchvision

    fields = analyse_graph(torchvision.models.resnet18())
    assert fields["conv1"].receptive_field.size == 7
    assert fields["layer1.0.conv1"].receptive_field.size == 19  # 7, maxpool -> 11, + 2*4
    assert fields["layer4.1.conv2"].receptive_field.size == 435  # the known ResNet18 value
    assert fields["layer4.1.conv2"].receptive_field.jump == 32
    alex = analyse_graph(torchvision.models.alexnet())
    assert alex["features.0"].receptive_field.size == 11
    assert alex["features.10"].receptive_field.size == 163


def test_resnet_sparsity_varies_and_balanced_is_not_mean(registry: ModelRegistry) -> None:
    image = Image.open(EXAMPLES / "chelsea.png").convert("RGB")
    maps = capture(registry.get("resnet18"), image).responses["layer2.0.conv1"]
    stats = filter_stats(maps)
    assert stats.sparsity.std() > 0.05
    assert stats.sparsity.max() - stats.sparsity.min() > 0.3
    balanced = [f.index for f in rank_filters(stats, "balanced", 10).filters]
    by_mean = [f.index for f in rank_filters(stats, "mean", 10).filters]
    assert balanced != by_mean


def test_alexnet_capture_is_a_copy_not_a_view(registry: ModelRegistry) -> None:
    alexnet = registry.get("alexnet")
    image = Image.open(EXAMPLES / "coffee.png").convert("RGB")
    conv = alexnet.module.features[0]
    with torch.no_grad():
        expected = torch.relu(conv(preprocess(image, alexnet.input_size)))[0].numpy()
    # Something downstream rewrites the conv output in place after the hook ran
    # (like the in-place ReLU does): a kept view would see it.
    handle = alexnet.module.features[1].register_forward_hook(lambda _m, _i, out: out.mul_(3.0))
    try:
        captured = capture(alexnet, image).responses["features.0"]
    finally:
        handle.remove()
    np.testing.assert_allclose(captured, expected, rtol=1e-4, atol=1e-5)
    assert (captured == 0).mean() > 0.05  # rectified: real zeros exist


def test_resnet_response_is_rectified_batchnorm_output(registry: ModelRegistry) -> None:
    resnet = registry.get("resnet18")
    image = Image.open(EXAMPLES / "chelsea.png").convert("RGB")
    with torch.no_grad():
        x = preprocess(image, resnet.input_size)
        expected = torch.relu(resnet.module.bn1(resnet.module.conv1(x)))[0].numpy()
    captured = capture(resnet, image).responses["conv1"]
    np.testing.assert_allclose(captured, expected, rtol=1e-4, atol=1e-5)


def test_prediction_is_top5_softmax(registry: ModelRegistry) -> None:
    image = Image.open(EXAMPLES / "rocket.jpg").convert("RGB")
    result = capture(registry.get("resnet18"), image)
    probabilities = [p.probability for p in result.top]
    assert len(result.top) == 5 and probabilities == sorted(probabilities, reverse=True)
    assert all(0 < p < 1 for p in probabilities)
    assert result.weights.pretrained is False


def test_kernels_do_not_apply_beyond_the_first_layer(registry: ModelRegistry) -> None:
    pictures = kernel_pictures(registry.get("resnet18"), "layer2.0.conv1", [0, 1])
    assert not pictures.applies and pictures.rgb is None
    assert "64 feature maps" in (pictures.reason or "")
    alex = kernel_pictures(registry.get("alexnet"), "features.0", [0, 5, 7])
    assert alex.applies and alex.rgb is not None and alex.rgb.shape == (3, 11, 11, 3)
    assert alex.rgb.min() >= 0 and alex.rgb.max() <= 1
    assert np.isclose(np.abs(alex.channels).max(), 1.0) or np.abs(alex.channels).max() <= 1.0


# ---------------------------------------------------------------- statistics, regions, reading


def test_statistics_on_a_known_array() -> None:
    maps = np.zeros((3, 4, 4), dtype=np.float32)
    maps[0] = 1.0
    maps[1, 0, 0] = 8.0
    stats = filter_stats(maps)
    np.testing.assert_allclose(stats.sparsity, [0.0, 15 / 16, 1.0])
    np.testing.assert_allclose(stats.mean, [1.0, 0.5, 0.0])
    np.testing.assert_allclose(stats.max, [1.0, 8.0, 0.0])
    whole = layer_stats(maps)
    assert whole.max == 8.0 and whole.sparsity == pytest.approx((0 + 15 + 16) / 48)


def test_balanced_cutoff_is_never_dropped_silently() -> None:
    maps = np.ones((4, 5, 5), dtype=np.float32)  # nothing sparse
    ranking = rank_filters(filter_stats(maps), "balanced", 3, min_sparsity=0.5)
    assert ranking.filters == [] and ranking.notice and "minimum sparsity" in ranking.notice
    maps[0, :3] = 0
    partial = rank_filters(filter_stats(maps), "balanced", 3, min_sparsity=0.5)
    assert [f.index for f in partial.filters] == [0] and "Only 1 of 4" in (partial.notice or "")


@pytest.mark.parametrize("n", [1, 3, 64, 10**6])
def test_rank_any_n(n: int) -> None:
    rng = np.random.default_rng(1)
    maps = np.maximum(rng.normal(size=(64, 6, 6)), 0).astype(np.float32)
    for criterion in ("balanced", "mean", "max", "std"):
        ranking = rank_filters(filter_stats(maps), criterion, n, min_sparsity=0.0)
        assert len(ranking.filters) == min(n, 64)
        scores = [f.score for f in ranking.filters]
        assert scores == sorted(scores, reverse=True)
        assert [f.rank for f in ranking.filters] == list(range(1, len(scores) + 1))


def test_small_strong_region_ranks_first() -> None:
    fmap = np.zeros((40, 40), dtype=np.float32)
    fmap[2:4, 2:4] = 10.0  # small and strong
    fmap[10:40, 0:40] = 6.0  # very large, weaker
    regions = find_regions(fmap, 400, 400).regions
    assert regions[0].x1 <= 60 and regions[0].size_class == "small"
    assert regions[1].size_class == "very large"
    assert [r.number for r in regions] == [1, 2]


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


def test_receptive_box_scales_to_original_pixels(registry: ModelRegistry) -> None:
    info = registry.get("resnet18").layers["conv1"]
    x0, y0, x1, y1 = receptive_box(info.receptive_field, 56, 56, 224, 448, 224)
    # cell (56, 56) of conv1 centres on input pixel 112.5; 7 px wide -> 14 px at 2x width.
    assert (x0, x1) == (218, 232) and (y0, y1) == (109, 116)


def test_silent_filters_are_not_ranked_as_selective() -> None:
    maps = np.zeros((3, 8, 8), dtype=np.float32)
    maps[1, :2, :2] = 1.0  # selective
    maps[2] = 0.5  # everywhere
    ranking = rank_filters(filter_stats(maps), "balanced", 3, min_sparsity=0.0)
    assert [f.index for f in ranking.filters] == [1, 2]  # filter 0 (silent) is not eligible


def test_patches_respect_the_region_threshold() -> None:
    fmap = np.zeros((20, 20), dtype=np.float32)
    fmap[2, 2], fmap[15, 15], fmap[2, 15] = 10.0, 9.0, 2.0  # the third peak is below half the top
    rf = ReceptiveField(size=5.0, jump=1.0, start=0.5)
    result = find_regions(fmap, 200, 200)
    patches = top_patches(fmap, rf, 20, 200, 200, threshold=result.threshold)
    assert [(p.row, p.col) for p in patches] == [(2, 2), (15, 15)]
    assert len(top_patches(fmap, rf, 20, 200, 200)) == 3


def test_nearly_silent_filters_are_not_ranked_as_selective() -> None:
    maps = np.zeros((3, 10, 10), dtype=np.float32)
    maps[0, 0, 0] = 0.01  # one faint response: off, not selective
    maps[1, :3, :3] = 2.0
    maps[2] = 1.0
    ranking = rank_filters(filter_stats(maps), "balanced", 3, min_sparsity=0.0)
    assert [f.index for f in ranking.filters] == [1, 2]
