"""Circuit and attribution answers live in the shared store: a second
Analyzer (another worker or host) over the same backend answers from it
without computing, to the last bit; a damaged blob is recomputed."""

from __future__ import annotations

import numpy as np
import pytest

from dashapp.config.settings import Settings
from dashapp.service import Analyzer, circuits
from dashapp.service.circuit_codec import decode_attribution, decode_circuit


def _refuse(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("computed again instead of reading the shared store")


def _other(settings: Settings, analyzer: Analyzer) -> Analyzer:
    return Analyzer(settings, registry=analyzer.registry, backend=analyzer.activations.backend)


def test_a_second_worker_reads_the_circuit_from_the_store(settings: Settings, analyzer: Analyzer,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    sha = analyzer.library.default_image()
    first = circuits.filter_circuit(analyzer, sha, "resnet18", "layer2.0.conv1", 7)
    monkeypatch.setattr(circuits, "circuit", _refuse)
    second = circuits.filter_circuit(_other(settings, analyzer), sha, "resnet18", "layer2.0.conv1", 7)
    assert circuits.circuit_answer(second, k=0) == circuits.circuit_answer(first, k=0)
    assert second.network_value == first.network_value and second.check == first.check
    assert [link.kind for link in second.outputs] == [link.kind for link in first.outputs]
    with pytest.raises(AssertionError):  # another filter is not in the store
        circuits.filter_circuit(_other(settings, analyzer), sha, "resnet18", "layer2.0.conv1", 8)


def test_a_second_worker_reads_the_attribution_from_the_store(settings: Settings, analyzer: Analyzer,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    sha = analyzer.library.default_image()
    first = circuits.attribution(analyzer, sha, "resnet18", "layer4", 281, "gradxact")
    monkeypatch.setattr(circuits, "channel_attribution", _refuse)
    second = circuits.attribution(_other(settings, analyzer), sha, "resnet18", "layer4", 281, "gradxact")
    assert second.logit == first.logit and second.baseline_logit == first.baseline_logit
    np.testing.assert_array_equal(second.attributions, first.attributions)
    np.testing.assert_array_equal(second.maps, first.maps)
    assert circuits.attribution_answer(second) == circuits.attribution_answer(first)


def test_a_damaged_blob_is_computed_again_and_never_unpickled(settings: Settings, analyzer: Analyzer) -> None:
    sha = analyzer.library.default_image()
    first = circuits.attribution(analyzer, sha, "resnet18", "layer4", 281, "gradxact")
    store = analyzer.activations
    key = store.key(circuits.Subject(sha, analyzer.models.model("resnet18"), analyzer.library.image(sha)),
                    f"{circuits.STORE_VERSION}:attribution:layer4:281:gradxact")
    assert store.get_blob(key) is not None
    for damaged in (store.get_blob(key)[:-3], b"ATT1\xff\xff\xff\x7f", b"\x80\x04pickle"):  # type: ignore[index]
        with pytest.raises(ValueError):
            decode_attribution(damaged)
        with pytest.raises(ValueError):
            decode_circuit(damaged)
    store.put_blob(key, b"ATT1 damaged")
    again = circuits.attribution(_other(settings, analyzer), sha, "resnet18", "layer4", 281, "gradxact")
    np.testing.assert_allclose(again.attributions, first.attributions, rtol=1e-5, atol=1e-6)
    assert decode_attribution(store.get_blob(key) or b"").logit == again.logit  # stored again, whole
