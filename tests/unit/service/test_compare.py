"""The Compare page's pair of bound views."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dashapp.analysis.models.checkpoints import TeamModelSpec
from dashapp.analysis.models.registry import ModelRegistry
from dashapp.config.settings import Settings
from dashapp.errors import UserError
from dashapp.service import Analyzer
from dashapp.service.compare import open_pair
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
    with pytest.raises(UserError, match="alexnet has no layer conv1 with 64 filters"):
        open_pair(analyzer, ViewState(image=image, model="resnet18", layer="conv1", model2="alexnet"))

    checkpoint, names = write_team_checkpoint(tmp_path)
    team = ModelRegistry(("resnet18",), policy="random", device="cpu",
                         team=(TeamModelSpec("birds", "resnet18", checkpoint, names),))
    service = Analyzer(settings, registry=team)
    pair = open_pair(service, ViewState(image=image, model="resnet18", layer="layer1.0.conv1", model2="birds"))
    assert pair.same_image and not pair.notices and pair.b.loaded.name == "birds"
    assert pair.a.maps.shape == pair.b.maps.shape and not np.array_equal(pair.a.maps, pair.b.maps)
    assert pair.swapped_state(5).model2 == "resnet18" and pair.swapped_state(5).model == "birds"
