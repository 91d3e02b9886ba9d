"""The one facade pages and the JSON API ask: images in, analyses out.

It ties the intake, the stores and the analysis engine together; it knows
nothing about HTTP or Dash.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from . import intake
from .analysis.capture import capture
from .analysis.explain import read_filter
from .analysis.gradcam import METHODS, class_evidence
from .analysis.kernels import KernelPictures, kernel_pictures
from .analysis.models import LayerInfo, LoadedModel, ModelError, ModelRegistry, ProgressFn
from .analysis.patches import Patch, top_patches
from .analysis.regions import RegionResult, find_regions
from .analysis.stats import (
    CRITERIA,
    FilterStats,
    LayerStats,
    Ranking,
    filter_stats,
    layer_stats,
    rank_filters,
    responds,
)
from .settings import Settings
from .store import (
    ActivationStore,
    FileImageStore,
    ImageStore,
    LruDict,
    RedisImageStore,
    StoreUnavailable,
    is_sha256,
    make_backend,
)

log = logging.getLogger(__name__)

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "assets" / "examples"
EXAMPLE_FILES = ("chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg")


class AnalysisError(Exception):
    """A request that cannot be answered as asked; ``status`` is a 4xx, or 503
    while a store or a model is unavailable."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class AnalysisQuery:
    image: str
    model: str
    layer: str
    criterion: str = "balanced"
    n: int = 6
    min_sparsity: float = 0.15
    weight: float = 0.5


@dataclass
class FilterView:
    """Everything the detail view needs for one filter."""

    index: int
    maps: np.ndarray  # (H, W) response
    regions: RegionResult
    patches: list[Patch]
    reading: dict[str, Any]
    stats: dict[str, float]
    rank: int | None


class Analyzer:
    def __init__(
        self,
        settings: Settings,
        registry: ModelRegistry | None = None,
        images: ImageStore | None = None,
        backend: Any = None,
    ) -> None:
        self.settings = settings
        self.limits = intake.Limits.from_settings(settings)
        self.registry = registry or ModelRegistry(
            settings.models, settings.weights, settings.random_seed, settings.device, settings.weights_mirror
        )
        if images is None:
            images = (
                RedisImageStore(settings.redis_url, settings.max_pixels)
                if settings.redis_url
                else FileImageStore(settings.images_dir, settings.max_pixels)
            )
        self.images = images
        self.activations = ActivationStore(
            backend if backend is not None else make_backend(settings),
            compute=self._compute,
            weights_tag=lambda name: self.model(name).weights.tag,
        )
        self._examples: dict[str, str] | None = None
        self._example_images: dict[str, Image.Image] = {}
        self._memos = LruDict(max_cost=32 * 1024 * 1024)

    # -- images

    def ingest_bytes(self, data: bytes) -> intake.AcceptedImage:
        accepted = intake.accept_bytes(data, self.limits)
        self.images.put(accepted)
        return accepted

    def ingest_url(self, url: str, policy: intake.AddressPolicy = intake.DEFAULT_POLICY) -> intake.AcceptedImage:
        accepted = intake.accept_url(url, self.limits, policy)
        self.images.put(accepted)
        return accepted

    def image(self, sha: str) -> Image.Image:
        if not is_sha256(sha):
            raise AnalysisError("The image id must be a 64-character SHA-256 in hex.", 400)
        example = self._example_images.get(sha)
        if example is not None:  # bundled: answered even while the store is down
            return example
        try:
            image = self.images.get(sha)
        except StoreUnavailable as exc:
            raise AnalysisError(str(exc), 503) from exc
        if image is None:
            raise AnalysisError("No image with this id is stored here; upload it again.", 404)
        return image

    def has_image(self, sha: str) -> bool:
        if sha in self._example_images:
            return True
        try:
            return self.images.has(sha)
        except StoreUnavailable as exc:
            raise AnalysisError(str(exc), 503) from exc

    def examples(self) -> dict[str, str]:
        """Bundled example file name -> image id (stored on first use)."""
        if self._examples is None:
            found: dict[str, str] = {}
            for name in EXAMPLE_FILES:
                path = EXAMPLES_DIR / name
                if path.is_file():
                    data = path.read_bytes()
                    # Bundled files are ours: the upload size limit is for users.
                    limits = dataclasses.replace(self.limits, max_bytes=max(len(data), self.limits.max_bytes))
                    accepted = intake.accept_bytes(data, limits)
                    found[name] = accepted.sha256
                    self._example_images[accepted.sha256] = accepted.image
                    try:
                        self.images.put(accepted)
                    except StoreUnavailable:
                        # A worker must boot while Redis is down; examples are
                        # served from memory and stored by a later worker.
                        log.warning("could not store example %s now; serving it from memory", name)
            self._examples = found
        return self._examples

    # -- models

    def model(self, name: str, progress: ProgressFn | None = None) -> LoadedModel:
        try:
            return self.registry.get(name, progress)
        except ModelError as exc:
            status = 404 if name not in self.registry.names else 503
            raise AnalysisError(str(exc), status) from exc

    def layers(self, model: str) -> dict[str, LayerInfo]:
        """The model's layer table, without waiting for a weights download."""
        if model not in self.registry.names:
            raise AnalysisError(f"Unknown model {model!r}; available: {', '.join(self.registry.names)}.", 404)
        try:
            return self.registry.layers(model)
        except ModelError as exc:
            raise AnalysisError(str(exc), 503) from exc

    def layer_catalog(self) -> dict[str, list[str]]:
        return {name: list(self.layers(name)) for name in self.registry.names}

    def layer_info(self, model: str, layer: str) -> LayerInfo:
        layers = self.layers(model)
        if layer not in layers:
            raise AnalysisError(f"{model} has no conv layer named {layer[:40]!r}.", 404)
        return layers[layer]

    def default_image(self) -> str:
        examples = self.examples()
        return examples.get("chelsea.png") or next(iter(examples.values()))

    def catalog(self) -> list[dict[str, Any]]:
        result = []
        for name in self.registry.names:
            loaded = self.model(name)
            result.append(
                {
                    "name": name,
                    "weights": loaded.weights.as_dict(),
                    "input_size": loaded.input_size,
                    "layers": [info.as_dict() for info in loaded.layers.values()],
                }
            )
        return result


    # -- activations

    def _compute(self, sha: str, model: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        loaded = self.model(model)
        result = capture(loaded, self.image(sha))
        meta = {"top": [p.as_dict() for p in result.top], "weights": loaded.weights.as_dict()}
        return result.responses, meta

    def maps(self, sha: str, model: str, layer: str) -> np.ndarray:
        self.layer_info(model, layer)
        self.image(sha)  # a clear 404 before any computing
        return self.activations.layer(sha, model, layer)

    def prediction(self, sha: str, model: str) -> dict[str, Any]:
        self.image(sha)
        meta = self.activations.meta(sha, model)
        # Read the weights' status from this process's model, not from the
        # cache entry: the key already includes the weights' identity.
        return {"top": meta.get("top", []), "weights": self.model(model).weights.as_dict()}

    def _memo(self, key: tuple[Any, ...], compute: Callable[[], Any], cost: int = 16_384) -> Any:
        """Derived numbers (statistics, regions, whole answers) kept per process:
        a warm request should not redo them. Keys hold the weights' identity."""
        value = self._memos.get(key)
        if value is None:
            value = compute()
            self._memos.put(key, value, cost)
        return value

    def stats(self, sha: str, model: str, layer: str) -> FilterStats:
        return self._memo(("stats", self.model(model).weights.tag, sha, model, layer),
                          lambda: filter_stats(self.maps(sha, model, layer)))

    def layer_stats(self, sha: str, model: str, layer: str) -> LayerStats:
        return self._memo(("layer_stats", self.model(model).weights.tag, sha, model, layer),
                          lambda: layer_stats(self.maps(sha, model, layer)))

    def regions(self, sha: str, model: str, layer: str, index: int) -> RegionResult:
        def compute() -> RegionResult:
            image = self.image(sha)
            return find_regions(self.maps(sha, model, layer)[index], image.width, image.height)

        return self._memo(("regions", self.model(model).weights.tag, sha, model, layer, index), compute)

    def ranking(self, query: AnalysisQuery) -> Ranking:
        return rank_filters(self.stats(query.image, query.model, query.layer), query.criterion,
                            query.n, query.min_sparsity, query.weight)

    def filter_view(self, query: AnalysisQuery, index: int, ranking: Ranking | None = None) -> FilterView:
        info = self.layer_info(query.model, query.layer)
        if not 0 <= index < info.out_channels:
            raise AnalysisError(
                f"Filter {index} does not exist: {query.layer} has filters 0 to {info.out_channels - 1}.", 404
            )
        maps = self.maps(query.image, query.model, query.layer)
        image = self.image(query.image)
        stats = self.stats(query.image, query.model, query.layer)
        regions = self.regions(query.image, query.model, query.layer, index)
        patches = top_patches(maps[index], info.receptive_field, self.model(query.model).input_size,
                              image.width, image.height, threshold=regions.threshold)
        top = self.prediction(query.image, query.model)["top"]
        reading = read_filter(index, stats, regions.regions, self.model(query.model).weights,
                              top[0]["probability"] if top else None)
        rank = None
        if ranking is not None:
            rank = next((f.rank for f in ranking.filters if f.index == index), None)
        return FilterView(
            index=index,
            maps=maps[index],
            regions=regions,
            patches=patches,
            reading=reading.as_dict(),
            stats={
                "mean": float(stats.mean[index]),
                "max": float(stats.max[index]),
                "std": float(stats.std[index]),
                "sparsity": float(stats.sparsity[index]),
            },
            rank=rank,
        )

    def evidence(self, query: AnalysisQuery, class_index: int, method: str = "gradcam") -> np.ndarray:
        """Class evidence (Grad-CAM or Grad-CAM++) at the query's layer, through the store."""
        self.layer_info(query.model, query.layer)
        loaded = self.model(query.model)
        if method not in METHODS:
            raise AnalysisError(f"method must be one of {', '.join(METHODS)}.")
        if not 0 <= class_index < len(loaded.categories):
            raise AnalysisError(f"class must be between 0 and {len(loaded.categories) - 1}.")
        image = self.image(query.image)
        return self.activations.derived(
            query.image, query.model, f"{method}:{query.layer}:{class_index}",
            lambda: class_evidence(loaded, image, query.layer, class_index, method),
        )

    def profile(self, sha: str, model: str, min_sparsity: float) -> list[dict[str, Any]]:
        """Every conv layer at once, from the one stored forward pass."""
        rows = []
        for name, info in self.layers(model).items():
            stats = self.stats(sha, model, name)
            strongest = np.argsort(-stats.mean, kind="stable")[:3]
            rows.append({
                "layer": name,
                "filters": info.out_channels,
                "sparsity": stats.sparsity,
                "mean": stats.mean,
                "passing": int(((stats.sparsity >= min_sparsity) & responds(stats)).sum()),
                "strongest": [int(i) for i in strongest],
            })
        return rows

    def kernels(self, model: str, layer: str, indices: list[int]) -> KernelPictures:
        self.layer_info(model, layer)
        return kernel_pictures(self.model(model), layer, indices)

    def analysis(self, query: AnalysisQuery) -> dict[str, Any]:
        """The JSON API's answer: prediction, layer statistics, ranked filters
        with their statistics, regions and reading."""
        self.layer_info(query.model, query.layer)
        self.image(query.image)  # a clear 4xx before the memo
        tag = self.model(query.model).weights.tag
        return self._memo(("analysis", tag, query), lambda: self._analysis(query), cost=64_000)

    def _analysis(self, query: AnalysisQuery) -> dict[str, Any]:
        info = self.layer_info(query.model, query.layer)
        image = self.image(query.image)
        stats = self.stats(query.image, query.model, query.layer)
        ranking = self.ranking(query)
        prediction = self.prediction(query.image, query.model)
        loaded = self.model(query.model)
        top_probability = prediction["top"][0]["probability"] if prediction["top"] else None
        filters = []
        for ranked in ranking.filters:
            regions = self.regions(query.image, query.model, query.layer, ranked.index)
            reading = read_filter(ranked.index, stats, regions.regions, loaded.weights, top_probability)
            filters.append({**ranked.as_dict(), **regions.as_dict(), "reading": reading.as_dict()})
        return {
            "image": {"sha256": query.image, "width": image.width, "height": image.height},
            "model": query.model,
            "weights": loaded.weights.as_dict(),
            "layer": info.as_dict(),
            "prediction": prediction["top"],
            "layer_stats": self.layer_stats(query.image, query.model, query.layer).as_dict(),
            "ranking": {**ranking.as_dict(), "filters": filters},
            "query": {
                "criterion": query.criterion,
                "n": ranking.requested,
                "min_sparsity": query.min_sparsity,
                "weight": query.weight,
            },
        }


def strict_query(params: dict[str, str], analyzer: Analyzer) -> AnalysisQuery:
    """Validate API query parameters; any bad one is a 400 that names it."""

    def number(name: str, default: float, low: float, high: float) -> float:
        raw = params.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = float(raw)
        except ValueError:
            raise AnalysisError(f"{name} must be a number, got {raw[:40]!r}.") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise AnalysisError(f"{name} must be between {low:g} and {high:g}, got {raw[:40]!r}.")
        return value

    image = params.get("image", "")
    if not image:
        raise AnalysisError("image is required: the id answered by POST /api/images.")
    model = params.get("model") or analyzer.registry.names[0]
    if model not in analyzer.registry.names:
        raise AnalysisError(f"Unknown model {model[:40]!r}; available: {', '.join(analyzer.registry.names)}.", 404)
    layer = params.get("layer", "")
    if not layer:
        raise AnalysisError("layer is required, e.g. layer2.0.conv1; GET /api/models lists them.")
    criterion = params.get("criterion") or "balanced"
    if criterion not in CRITERIA:
        raise AnalysisError(f"criterion must be one of {', '.join(CRITERIA)}, got {criterion[:40]!r}.")
    n_value = number("n", 6, 1, 10**6)
    if n_value != int(n_value):
        raise AnalysisError("n must be a whole number.")
    return AnalysisQuery(
        image=image,
        model=model,
        layer=layer,
        criterion=criterion,
        n=int(n_value),
        min_sparsity=number("min_sparsity", 0.15, 0.0, 1.0),
        weight=number("weight", 0.5, 0.0, 1.0),
    )
