"""A bound subject: one image, one loaded model, one layer, resolved once.

``Analyzer.open(state)`` validates and binds these once (as pytorch-grad-cam's
``BaseCAM`` binds its model and target layer), and the ``LayerView`` it
returns answers everything a page or the API asks about that subject without
resolving a name again. Derived numbers (statistics, regions) are memoized per
process by keys that hold the weights' identity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from PIL import Image

from dashapp.analysis.maps.explain import read_filter
from dashapp.analysis.maps.geometry import MapGeometry, map_geometry
from dashapp.analysis.maps.kernels import KernelPictures, kernel_pictures
from dashapp.analysis.maps.patches import Patch, top_patches
from dashapp.analysis.maps.regions import RegionResult, find_regions
from dashapp.analysis.maps.stats import (
    FilterStats,
    LayerStats,
    Ranking,
    filter_stats,
    layer_stats,
    rank_filters,
    responds,
)
from dashapp.analysis.models.blocks import EvidenceLayer
from dashapp.analysis.models.registry import LayerInfo, LoadedModel
from dashapp.state.schema import ViewState

from .. import i18n
from ..errors import UserError
from ..i18n import _
from ..store import ActivationStore, Subject
from ..wording.ranking import with_notice
from ..wording.reading import WordedReading, word_reading
from .catalog import ModelCatalog
from .evidence import EvidenceAnswer, class_evidence, sanity
from .lazy import cached_property
from .memo import Memo


class Services(Protocol):
    """What a view reads from the ``Analyzer`` that opened it (named here, so
    this module does not import the facade above it)."""

    @property
    def activations(self) -> ActivationStore: ...

    @property
    def memo(self) -> Memo: ...

    @property
    def models(self) -> ModelCatalog: ...


@dataclass(frozen=True)
class FilterView:
    """Everything the detail view needs for one filter."""

    index: int
    maps: np.ndarray  # (H, W) response
    regions: RegionResult
    patches: list[Patch]
    reading: WordedReading
    stats: dict[str, float]
    rank: int | None


class LayerView:
    def __init__(self, service: Services, state: ViewState, subject: Subject, info: LayerInfo) -> None:
        self._service = service
        self.state = state
        self.subject = subject
        self.info = info

    # -- what is bound

    @property
    def image(self) -> Image.Image:
        return self.subject.image

    @property
    def loaded(self) -> LoadedModel:
        return self.subject.model

    @property
    def input_size(self) -> int:
        return self.subject.model.input_size

    def _key(self, *parts: Any) -> tuple[Any, ...]:
        return (self.loaded.name, self.loaded.weights.tag, self.subject.sha, *parts)

    # -- numbers

    def layer_maps(self, layer: str) -> np.ndarray:
        """Another layer of the same image and model (the one stored forward pass)."""
        return self._service.activations.layer(self.subject, layer)

    @cached_property
    def maps(self) -> np.ndarray:
        return self.layer_maps(self.info.name)

    def stats_of(self, layer: str) -> FilterStats:
        return self._service.memo.get_or_compute(
            ("stats", *self._key(layer)), lambda: filter_stats(self.layer_maps(layer)))

    @property
    def stats(self) -> FilterStats:
        return self.stats_of(self.info.name)

    @property
    def layer_stats(self) -> LayerStats:
        return self._service.memo.get_or_compute(
            ("layer_stats", *self._key(self.info.name)), lambda: layer_stats(self.maps))

    @cached_property
    def ranking(self) -> Ranking:
        s = self.state
        ranked = self._service.memo.get_or_compute(
            ("ranking", *self._key(self.info.name), s.criterion, s.n, s.min_sparsity, s.weight),
            lambda: rank_filters(self.stats, s.criterion, s.n, s.min_sparsity, s.weight))
        return with_notice(ranked)

    @cached_property
    def prediction(self) -> list[dict[str, Any]]:
        """The top classes from the stored forward pass."""
        return list(self._service.activations.meta(self.subject).get("top", []))

    @property
    def top_probability(self) -> float | None:
        return self.prediction[0]["probability"] if self.prediction else None

    def check_filter(self, index: int) -> int:
        if not 0 <= index < self.info.out_channels:
            raise UserError(_("Filter {index} does not exist: {layer} has filters 0 to {last}.").format(
                index=index, layer=self.info.name, last=self.info.out_channels - 1), 404)
        return index

    def regions(self, index: int) -> RegionResult:
        self.check_filter(index)
        return self._service.memo.get_or_compute(
            ("regions", *self._key(self.info.name, index)),
            lambda: find_regions(self.maps[index], self.image.width, self.image.height, geometry=self.geometry))

    def reading(self, index: int) -> WordedReading:
        """The filter's reading in the reader's language, worded once per
        process (a warm answer of n filters had spent a third of its time
        writing the same sentences again)."""
        regions = self.regions(index)  # checks the index
        return self._service.memo.get_or_compute(
            ("reading", *self._key(self.info.name, index), i18n.current()),
            lambda: word_reading(read_filter(index, self.stats, regions.regions, self.loaded.weights,
                                             self.top_probability)))

    def filter(self, index: int) -> FilterView:
        self.check_filter(index)
        regions = self.regions(index)
        stats = self.stats
        patches = top_patches(self.maps[index], self.info.receptive_field, self.input_size,
                              self.image.width, self.image.height, threshold=regions.threshold)
        return FilterView(
            index=index,
            maps=self.maps[index],
            regions=regions,
            patches=patches,
            reading=self.reading(index),
            stats={
                "mean": float(stats.mean[index]),
                "max": float(stats.max[index]),
                "std": float(stats.std[index]),
                "sparsity": float(stats.sparsity[index]),
            },
            rank=next((f.rank for f in self.ranking.filters if f.index == index), None),
        )

    @property
    def geometry(self) -> MapGeometry:
        """Where the layer's map cells lie in the original image (``analysis/maps/geometry.py``)."""
        return map_geometry(self.info.receptive_field, self.input_size, self.image.width, self.image.height)

    def evidence_layer(self, name: str | None = None) -> EvidenceLayer:
        """``name``, else the state's evidence layer, else the model's default (ResNet18: ``layer4``)."""
        return self._service.models.evidence_layer(self.loaded.name, name or self.state.elayer)

    def evidence(self, class_index: int, method: str = "gradcam", layer: str | None = None) -> EvidenceAnswer:
        """Class evidence (Grad-CAM or Grad-CAM++) at an evidence layer, through the store."""
        return class_evidence(self._service.activations, self._service.memo, self.subject, self.evidence_layer(layer),
                              class_index, method)

    def sanity(self, class_index: int, method: str = "gradcam", layer: str | None = None, *, compute: bool = True,
               progress: Callable[[int, int], None] | None = None, wait: bool = True) -> dict[str, Any] | None:
        """The cascading randomization check for that evidence (``service/evidence.py``)."""
        return sanity(self._service.activations, self.subject, self.evidence_layer(layer), class_index, method,
                      compute=compute, progress=progress, wait=wait)

    def kernels(self, indices: list[int]) -> KernelPictures:
        for index in indices:
            self.check_filter(index)
        return kernel_pictures(self.loaded, self.info.name, indices)

    def profile(self) -> list[dict[str, Any]]:
        """Every conv layer at once, from the one stored forward pass."""
        rows = []
        for name, info in self.loaded.layers.items():
            stats = self.stats_of(name)
            strongest = np.argsort(-stats.mean, kind="stable")[:3]
            rows.append({
                "layer": name,
                "filters": info.out_channels,
                "sparsity": stats.sparsity,
                "mean": stats.mean,
                "passing": int(((stats.sparsity >= self.state.min_sparsity) & responds(stats)).sum()),
                "strongest": [int(i) for i in strongest],
            })
        return rows
