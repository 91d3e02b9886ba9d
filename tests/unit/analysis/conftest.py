"""Fixtures the analysis tests share: the planted model and its scan."""

from __future__ import annotations

import pytest

from dashapp.analysis.models.registry import LoadedModel
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
