"""Class evidence through the store: another worker reads the map and its
scale; an evicted scale is recomputed; sanity results are shared."""

from __future__ import annotations

import numpy as np
import pytest

from dashapp.analysis.attribution.gradcam import evidence
from dashapp.config.settings import Settings
from dashapp.errors import UserError
from dashapp.service import Analyzer
from dashapp.state.schema import ViewState


def test_another_worker_reads_map_and_scale_and_an_evicted_scale_is_recomputed(
        settings: Settings, analyzer: Analyzer) -> None:
    sha = analyzer.library.default_image()
    state = ViewState(image=sha, model="alexnet", layer="features.0")
    view = analyzer.open(state)
    first = view.evidence(281, "gradcam", layer="features.0")
    direct = evidence(view.loaded, view.image, "features.0", 281)
    assert first.scale == pytest.approx(direct.scale, rel=1e-6) and first.scale > 0
    np.testing.assert_allclose(first.map, direct.map, rtol=2**-10, atol=0)

    other = Analyzer(settings, registry=analyzer.registry, backend=analyzer.activations.backend)
    second = other.open(state).evidence(281, "gradcam", layer="features.0")
    assert second.scale == first.scale and (second.map == first.map).all()

    key = analyzer.activations.key(view.subject, "gradcam:features.0:281:scale")
    analyzer.activations.backend.delete(key)
    third = Analyzer(settings, registry=analyzer.registry, backend=analyzer.activations.backend)
    assert third.open(state).evidence(281, "gradcam", layer="features.0").scale == pytest.approx(first.scale, rel=1e-6)
    assert analyzer.activations.get_blob(key) is not None  # stored again


def test_unknown_evidence_layers_and_stored_sanity(settings: Settings, analyzer: Analyzer) -> None:
    view = analyzer.open(ViewState(image=analyzer.library.default_image(), model="alexnet", layer="features.0"))
    with pytest.raises(UserError) as info:
        view.evidence(1, layer="layer4")
    assert info.value.status == 404
    assert view.sanity(1, layer="features.10", compute=False) is None
    result = view.sanity(1, layer="features.10")
    assert result is not None and result["layer"] == "features.10" and len(result["steps"]) == 7
    other = Analyzer(settings, registry=analyzer.registry, backend=analyzer.activations.backend)
    assert other.open(view.state).sanity(1, layer="features.10", compute=False) == result
