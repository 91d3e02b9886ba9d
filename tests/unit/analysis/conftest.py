"""Fixtures the analysis tests share: the planted model and its scan."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dashapp.analysis.models.registry import LoadedModel, ModelRegistry, describe
from dashapp.analysis.scan.result import ScanResult
from dashapp.analysis.scan.scanner import scan
from tests.support.planted import planted_model
from tests.support.planted_collection import planted_items


@pytest.fixture(scope="module")
def planted() -> LoadedModel:
    """A small net whose filters are known: red detector, blue background, horizontal edge."""
    return planted_model()


@pytest.fixture(scope="module")
def planted_result(planted: LoadedModel) -> ScanResult:
    """The planted model's scan of the planted 40-image collection."""
    return scan(planted, planted_items(), batch_size=8)


# A quarter of the pixels of the models' 224 px input: enough for every layer
# of ResNet18 and AlexNet to keep a map (ResNet18's layer4: 4×4, AlexNet's
# features.10: 6×6).
SMALL_INPUT = 112


@pytest.fixture(scope="session")
def small_input(registry: ModelRegistry) -> Callable[[str], LoadedModel]:
    """The session registry's models (the same modules and weights) described
    for a 112 px input, for the tests of identities that hold at any input
    size (a circuit's contributions sum to the pre-activation; Grad-CAM is the
    papers' formula): each forward pass costs a quarter of the 224 px one."""
    described: dict[str, LoadedModel] = {}

    def get(name: str) -> LoadedModel:
        if name not in described:
            loaded = registry.get(name)
            described[name] = describe(name, loaded.module, loaded.categories, loaded.weights, loaded.device,
                                       SMALL_INPUT)
        return described[name]

    return get
