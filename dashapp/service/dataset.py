"""Image collections and their scans, and what a scanned collection says
about a layer's filters, for the Dataset page, the filter detail page and
the JSON API alike (``Analyzer.collections``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dashapp.analysis.models.registry import LayerInfo
from dashapp.analysis.scan.result import ScanResult
from dashapp.analysis.scan.scanner import TopExample, top_examples
from dashapp.config.settings import Settings

from ..collections.manifest import Collection
from ..collections.owners import ANYONE, Owners, ViewedStore, Viewer
from ..collections.runtime import ingest_demo, ingest_folder, ingest_upload, scanner_for
from ..collections.scanning import Scanner
from ..collections.sources import folder_names
from ..errors import UserError
from ..i18n import _
from ..store import ImageStore
from .catalog import ModelCatalog

SORTS = ("firing", "selectivity", "peak")
# The selectivity sort leaves out filters firing on fewer than this share of
# the images: Morcos's index tops out for a nearly silent filter (firing on a
# few images, its peak a tenth of the others'), which says little. The
# Dataset page and the API (``min_firing_rate``) may set another, 0 to 1.
MIN_FIRING_RATE = 0.10


def checked_min_firing(raw: object) -> float:
    """A minimum firing rate a reader asked for (None: the default), or a UserError."""
    if raw is None or raw == "":
        return MIN_FIRING_RATE
    try:
        value = float(str(raw)[:20])
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:  # NaN fails too
        raise UserError(_("min_firing_rate must be a number from 0 to 1 (a share of the images), not {value}.")
                        .format(value=repr(str(raw)[:20])))
    return value


@dataclass(frozen=True)
class FilterSummary:
    index: int
    firing_rate: float
    peak: float  # the filter's top-1 value over the collection
    mean_peak: float
    selectivity: float | None  # Morcos et al. 2018; None without two labelled classes
    preferred: str | None  # the class with the highest mean peak

    def as_dict(self) -> dict[str, Any]:
        return {"filter": self.index, "firing_rate": self.firing_rate, "peak": self.peak,
                "mean_peak": self.mean_peak, "selectivity": self.selectivity, "preferred_class": self.preferred}


@dataclass(frozen=True)
class CollectionLayer:
    """One layer of one scanned (collection, model)."""

    collection: Collection
    result: ScanResult
    info: LayerInfo
    input_size: int

    def check_filter(self, index: int) -> int:
        count = self.info.out_channels
        if not 0 <= index < count:
            raise UserError(_("Filter {index} does not exist: {layer} has filters 0 to {last}.").format(
                index=index, layer=self.info.name, last=count - 1), 404)
        return index

    def summaries(self) -> list[FilterSummary]:
        name = self.info.name
        rate = self.result.firing_rate(name)
        peaks = self.result.layers[name].values[:, 0]
        mean_peak = self.result.mean_peak(name)
        selectivity = self.result.selectivity(name)
        preferred = self.result.preferred_class(name)
        return [FilterSummary(i, float(rate[i]), float(max(peaks[i], 0.0)), float(mean_peak[i]),
                              None if selectivity is None else float(selectivity[i]),
                              preferred[i] if selectivity is not None else None)
                for i in range(self.info.out_channels)]

    def sorted_summaries(self, sort: str, min_firing: float = MIN_FIRING_RATE) -> list[FilterSummary]:
        """Highest first; ties by filter index (``ranked`` without its count)."""
        return self.ranked(sort, min_firing)[0]

    def ranked(self, sort: str, min_firing: float = MIN_FIRING_RATE) -> tuple[list[FilterSummary], int]:
        """(the filters highest first, ties by filter index; how many the sort
        left out). Only the selectivity sort leaves any out: those firing on
        fewer than ``min_firing`` of the images. Without labels, selectivity
        sorts by peak."""
        rows = self.summaries()
        if sort == "firing":
            return sorted(rows, key=lambda r: (-r.firing_rate, -r.peak, r.index)), 0
        if sort == "selectivity" and rows and rows[0].selectivity is not None:
            kept = [r for r in rows if r.firing_rate >= min_firing]
            # A filter that never fires is off, not selective (the ranking's
            # rule): Morcos's index is 1 for a filter silent on all but one
            # class, however weak, so those go after the firing ones.
            ordered = sorted(kept, key=lambda r: (r.firing_rate == 0, -(r.selectivity or 0.0), -r.peak, r.index))
            return ordered, len(rows) - len(kept)
        return sorted(rows, key=lambda r: (-r.peak, r.index)), 0

    def top(self, index: int, k: int | None = None) -> list[TopExample]:
        return top_examples(self.result, self.info, self.input_size, self.check_filter(index), k)

    def responding(self, index: int, k: int | None = None) -> list[TopExample]:
        """The top examples where the filter responds at all (a zero peak shows nothing)."""
        return [example for example in self.top(index, k) if example.value > 0]

    def class_means(self, index: int) -> tuple[list[str], list[float]]:
        """Labels with images, and the filter's mean peak on each."""
        counts = self.result.class_counts
        means = self.result.class_means(self.info.name)[self.check_filter(index)]
        kept = [(label, float(mean)) for label, mean, count in zip(self.result.labels, means, counts, strict=True)
                if count > 0 and np.isfinite(mean)]
        return [label for label, _ in kept], [mean for _, mean in kept]


class Collections:
    """The stored collections, the operator's folders, and scans of them
    under the catalog's models; the scanner is built on first use."""

    def __init__(self, settings: Settings, models: ModelCatalog, images: ImageStore) -> None:
        self.settings = settings
        self._models = models
        self._images = images
        self._scanner: Scanner | None = None
        self._owners: Owners | None = None
        # Who asks (web/auth.py sets it from the request when DASHAPP_AUTH is on).
        self.viewer: Callable[[], Viewer] = lambda: ANYONE

    @property
    def scans(self) -> Scanner:
        if self._scanner is None:
            self._scanner = scanner_for(self.settings, registry=self._models.registry, image_store=self._images)
        return self._scanner

    @property
    def owners(self) -> Owners:
        if self._owners is None:
            self._owners = Owners(self.scans.collections, self.settings.collection_user_max_bytes,
                                  self.settings.scans_per_user)
        return self._owners

    # -- collections

    def stored(self) -> list[Collection]:
        """The collections the viewer may read: their own, shared ones, everyone's."""
        return self.owners.visible(self.scans.collections.list(), self.viewer())

    def get(self, collection_id: str) -> Collection:
        """The collection, or a 404 (missing, or another user's unshared one)."""
        return self.owners.readable(collection_id, self.viewer())

    def viewed(self) -> ViewedStore:
        """The stored collections as the asking user sees them (for concept tests)."""
        return ViewedStore(self.scans.collections, lambda: self.viewer())

    def set_shared(self, collection_id: str, shared: bool) -> Collection:
        return self.owners.set_shared(collection_id, self.viewer(), shared)

    def folders(self) -> list[str]:
        """The operator's folders (``DASHAPP_COLLECTIONS_DIR``), each one a collection to add."""
        return folder_names(self.settings.collections_dir)

    def add_demo(self) -> Collection:
        return ingest_demo(self.settings, self.scans)

    def add_folder(self, folder: str) -> Collection:
        return ingest_folder(self.settings, self.scans, folder)

    def add_upload(self, name: str, files: list[tuple[str, bytes]], shared: bool = False) -> Collection:
        """Many image files, or one zip: the viewer's own collection (``shared``: readable by all)."""
        viewer = self.viewer()
        self.owners.check_room(viewer)
        return ingest_upload(self.settings, self.scans, name, files, self.owners.claim(viewer, shared))

    # -- scans

    def model(self, name: str | None) -> str:
        """``name`` (the first model when None or empty), or a UserError naming the known ones."""
        return self._known(name or self._models.names[0])

    def _known(self, model: str) -> str:
        names = self._models.names
        if model not in names:
            raise UserError(_("Unknown model {model}; available: {choices}.").format(
                model=repr(model[:40]), choices=", ".join(names)), 404)
        return model

    def start(self, collection_id: str, model: str) -> dict[str, Any]:
        return self.owners.start_scan(collection_id, model, self.viewer(), self.scans.status, self.scans.start)

    def cancel(self, collection_id: str, model: str) -> dict[str, Any]:
        self.owners.check_cancel(collection_id, model, self.viewer())
        return self.scans.cancel(collection_id, model)

    def status(self, collection_id: str, model: str) -> dict[str, Any]:
        self.owners.check(collection_id, self.viewer())
        return self.scans.status(collection_id, model)

    def layer(self, collection_id: str, model: str, layer: str) -> CollectionLayer:
        """The scanned layer, or a UserError saying what is missing."""
        collection = self.get(collection_id)
        info = self._models.layer(self._known(model), layer)
        result = self.scans.result(collection_id, model)
        if result is None:
            message = _("The collection has not been scanned with {model} yet; start a scan first.")
            raise UserError(message.format(model=model), 409)
        return CollectionLayer(collection, result, info, self._models.model(model).input_size)
