"""The service binds an image, a model and a layer once and answers from that."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from dashapp.analysis.maps.stats import filter_stats
from dashapp.analysis.models.capture import capture
from dashapp.errors import UserError
from dashapp.service import Analyzer
from dashapp.state.schema import ViewState


@pytest.fixture
def example(analyzer: Analyzer) -> str:
    return analyzer.library.default_image()


def test_open_binds_once_and_answers_from_the_stored_pass(analyzer: Analyzer, example: str) -> None:
    view = analyzer.open(ViewState(image=example, model="resnet18", layer="layer1.0.conv1", n=4))
    direct = capture(view.loaded, view.image).responses["layer1.0.conv1"]
    # The store keeps float16: the view answers what every worker sees.
    np.testing.assert_allclose(view.maps, direct.astype(np.float16).astype(np.float32))
    stats = filter_stats(view.maps)
    assert len(view.ranking.filters) == 4 and view.stats.mean.shape == stats.mean.shape
    top = view.ranking.filters[0].index
    detail = view.filter(top)
    assert detail.rank == 1 and detail.stats["max"] == pytest.approx(float(stats.max[top]))
    assert detail.regions is view.regions(top)  # memoized, not recomputed
    assert view.prediction and 0 < view.top_probability <= 1


def test_open_refuses_what_it_cannot_bind(analyzer: Analyzer, example: str) -> None:
    cases = [
        (ViewState(image=None), 400, "image"),
        (ViewState(image="0" * 64), 404, "upload"),
        (ViewState(image=example, model="vgg99"), 404, "vgg99"),
        (ViewState(image=example, layer="nope"), 404, "nope"),
    ]
    for state, status, word in cases:
        with pytest.raises(UserError) as info:
            analyzer.open(state)
        assert info.value.status == status and word in info.value.message
    view = analyzer.open(ViewState(image=example, layer="conv1"))
    with pytest.raises(UserError) as info:
        view.filter(64)
    assert info.value.status == 404 and "0 to 63" in info.value.message


def test_evidence_kernels_and_profile_through_the_view(analyzer: Analyzer, example: str) -> None:
    view = analyzer.open(ViewState(image=example, model="alexnet", layer="features.0"))
    # The evidence layer defaults to the model's (AlexNet: its last conv), not the view's layer.
    cam = view.evidence(3, "gradcam", layer="features.0")
    assert cam.map.shape == view.info.map_size and np.isfinite(cam.map).all() and cam.scale > 0
    assert view.evidence(3, "gradcam").layer.name == "features.10"
    with pytest.raises(UserError):
        view.evidence(1000)
    with pytest.raises(UserError):
        view.evidence(3, "lime")
    assert view.kernels([0, 1]).applies
    rows = view.profile()
    assert [r["layer"] for r in rows] == list(view.loaded.layers)
    assert all(0 <= r["passing"] <= r["filters"] for r in rows)


def test_the_memo_counts_real_sizes_and_stays_bounded(analyzer: Analyzer, example: str) -> None:
    view = analyzer.open(ViewState(image=example, model="resnet18", layer="layer4.1.conv2"))
    for index in range(40):
        view.regions(index)
    assert 0 < analyzer.memo.bytes <= 32 * 1024 * 1024
    # Statistics of 512 filters hold four float32 arrays of 512 values at least.
    analyzer.memo = type(analyzer.memo)(max_bytes=32 * 1024 * 1024)
    _ = view.stats
    assert analyzer.memo.bytes >= 4 * 512 * 4


def test_rankings_and_readings_are_kept_per_choice_and_language(analyzer: Analyzer, example: str) -> None:
    """The memo answers a warm ranking and reading again, keyed by every choice
    the ranking reads and by the reader's language: a key missing one of them
    would answer with another choice's ranking or the other language's words."""
    from dashapp import i18n
    from dashapp.analysis.maps.explain import read_filter
    from dashapp.analysis.maps.stats import rank_filters
    from dashapp.wording.reading import word_reading

    base = ViewState(image=example, model="resnet18", layer="layer1.0.conv1", n=5)
    choices = [base, replace(base, criterion="max"), replace(base, n=3), replace(base, min_sparsity=0.4),
               replace(base, weight=0.9)]
    for state in choices * 2:
        view = analyzer.open(state)
        assert view.ranking.filters == rank_filters(view.stats, state.criterion, state.n, state.min_sparsity,
                                                    state.weight).filters
    first = analyzer.open(base)
    assert analyzer.open(base).ranking.filters is first.ranking.filters  # kept, not ranked again
    top = first.ranking.filters[0].index
    for language in ("en", "es", "en", "es"):
        with i18n.speaking(language):
            view = analyzer.open(base)
            expected = word_reading(read_filter(top, view.stats, view.regions(top).regions, view.loaded.weights,
                                                view.top_probability))
            assert view.reading(top) == expected
            assert view.reading(top) is analyzer.open(base).reading(top)
    with i18n.speaking("en"):
        english = analyzer.open(base).reading(top).summary
    with i18n.speaking("es"):
        assert analyzer.open(base).reading(top).summary != english
