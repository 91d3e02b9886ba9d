"""The Compare page's pair of bound views."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dashapp.analysis.models.checkpoints import TeamModelSpec
from dashapp.analysis.models.registry import ModelRegistry
from dashapp.config.settings import Settings
from dashapp.service import Analyzer
from dashapp.service.compare import open_pair, same_architecture
from dashapp.state.schema import ViewState
from tests.unit.analysis.models.test_checkpoints import write_team_checkpoint


def test_without_a_second_choice_the_next_example_is_compared(analyzer: Analyzer) -> None:
    first = analyzer.library.default_image()
    pair = open_pair(analyzer, ViewState(image=first, layer="layer1.0.conv1", filter=3))
    assert pair.b.subject.sha != first and pair.b.subject.sha in analyzer.library.examples().values()
    assert "No second image chosen" in pair.notices[0] and not pair.same_image
    assert pair.a.state.filter is None and pair.a.info == pair.b.info
    differences = pair.differences("peak", 4)
    gaps = [abs(d.delta) for d in differences]
    assert len(differences) == 4 and gaps == sorted(gaps, reverse=True)
    top = differences[0].index
    assert differences[0].a == pytest.approx(float(pair.a.maps[top].max()))
    assert differences[0].b == pytest.approx(float(pair.b.maps[top].max()))
    swapped = pair.swapped_state(top)
    assert (swapped.image, swapped.image2, swapped.filter, swapped.model2) == (pair.b.subject.sha, first, top, None)


@pytest.mark.slow
def test_one_image_under_two_models_needs_the_same_layer(analyzer: Analyzer, settings: Settings,
                                                        registry: ModelRegistry, tmp_path: Path) -> None:
    image = analyzer.library.default_image()
    # The same model twice is no comparison: the second image defaults to another example.
    pair = open_pair(analyzer, ViewState(image=image, model="resnet18", layer="conv1", model2="resnet18"))
    assert not pair.same_image and pair.notices
    assert pair.same_architecture

    checkpoint, names = write_team_checkpoint(tmp_path)
    team = ModelRegistry(("resnet18",), policy="random", device="cpu",
                         team=(TeamModelSpec("birds", "resnet18", checkpoint, names),))
    service = Analyzer(settings, registry=team)
    pair = open_pair(service, ViewState(image=image, model="resnet18", layer="layer1.0.conv1", model2="birds"))
    assert pair.same_image and not pair.notices and pair.b.loaded.name == "birds"
    assert pair.a.maps.shape == pair.b.maps.shape and not np.array_equal(pair.a.maps, pair.b.maps)
    assert pair.swapped_state(5).model2 == "resnet18" and pair.swapped_state(5).model == "birds"


def test_two_architectures_on_one_image_compare_predictions_evidence_and_profiles(analyzer: Analyzer) -> None:
    image = analyzer.library.default_image()
    pair = open_pair(analyzer, ViewState(image=image, model="resnet18", layer="layer1.0.conv1", model2="alexnet"))
    assert pair.same_image and not pair.notices and not pair.same_architecture
    assert pair.a.loaded.name == "resnet18" and pair.b.loaded.name == "alexnet"
    assert pair.b.info.name in analyzer.models.layers("alexnet")  # B bound at a layer of its own
    assert pair.a.prediction and pair.b.prediction
    assert pair.differences("peak", 4) == []  # no filter-by-filter comparison across architectures
    evidence = pair.evidence
    assert evidence is not None and evidence.b is not None
    # The same class on both sides, A's top class by default, each at its model's default evidence layer.
    assert evidence.a.class_index == pair.a.prediction[0]["index"]
    assert evidence.label == pair.a.loaded.categories[evidence.a.class_index]
    assert pair.b.loaded.categories[evidence.b.class_index] == evidence.label
    assert evidence.a.layer.name == analyzer.models.evidence_layer("resnet18", None).name == "layer4"
    assert evidence.b.layer.name == analyzer.models.evidence_layer("alexnet", None).name
    assert evidence.a.map.max() <= 1.0 and evidence.b.map.shape != evidence.a.map.shape
    assert [row["layer"] for row in pair.b.profile()] == list(analyzer.models.layers("alexnet"))


def test_a_chosen_class_is_the_one_both_models_explain(analyzer: Analyzer) -> None:
    image = analyzer.library.default_image()
    pair = open_pair(analyzer, ViewState(image=image, model="alexnet", layer="features.3", model2="resnet18",
                                         cls=281, elayer="features.6"))
    evidence = pair.evidence
    assert evidence is not None and evidence.b is not None
    assert evidence.a.class_index == evidence.b.class_index == 281
    # Each model's default layer, not the page's evidence layer (another architecture's names).
    assert (evidence.a.layer.name, evidence.b.layer.name) == ("features.10", "layer4")


def test_architecture_is_the_layers_and_their_filters(analyzer: Analyzer) -> None:
    assert same_architecture(analyzer, "resnet18", "resnet18")
    assert not same_architecture(analyzer, "resnet18", "alexnet")
