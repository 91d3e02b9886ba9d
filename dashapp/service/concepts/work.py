"""The computation of one concept test, wherever it runs (a thread of the
web process or a Celery worker): each image through the network once
(concept and random images for their maps, class images for the class
logit's gradient), then the runs (``analysis.tcav.experiment``).

Images are read from the image store one batch at a time; each collection
is subsampled (seeded) to ``MAX_IMAGES`` (random: ``RANDOM_CAP``), so the
memory held is at most (concepts x 100 + 200 + 100) images x the layers'
map sizes x 4 bytes, whatever the collections' sizes (ResNet18's default
four layers: 376,320 values per image, ~0.6 GB for one concept at the caps).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sklearn

from dashapp.analysis.tcav import cav, experiment
from dashapp.analysis.tcav.activations import BATCH, class_gradients, layer_maps
from dashapp.analysis.tcav.experiment import MAX_IMAGES, RANDOM_CAP, assess_concepts, subsample, threshold

from . import linear
from .request import ConceptRequest

Tick = Callable[[int], None]  # units of work done since the last call; raises to stop


def _members(collections: Any, collection_id: str, cap: int, seed: int) -> list[str]:
    """The image ids used from a collection: all up to ``cap``, else a seeded sample."""
    found = collections.get(collection_id)
    if found is None:
        raise LookupError(f"collection {collection_id} is no longer stored")
    return [found.images[i].image for i in subsample(len(found.images), cap, seed)]


def plan(request: ConceptRequest, collections: Any) -> dict[str, Any]:
    """The image ids used: {"concepts": {collection id: [...]}, "random": [...], "images": [...]}."""
    return {"concepts": {c: _members(collections, c, MAX_IMAGES, request.seed) for c in request.concepts},
            "random": _members(collections, request.random, RANDOM_CAP, request.seed),
            "images": _members(collections, request.images, MAX_IMAGES, request.seed)}


def total(request: ConceptRequest, used: dict[str, Any]) -> int:
    """Units of work: one per image passed, one per CAV trained."""
    passes = sum(len(ids) for ids in used["concepts"].values()) + len(used["random"]) + len(used["images"])
    return passes + experiment.steps(len(request.concepts), len(request.layers), request.runs)


def _in_batches(image_store: Any, ids: Sequence[str], compute: Callable[[list[Any]], dict[str, np.ndarray]],
                tick: Tick) -> dict[str, np.ndarray]:
    parts: list[dict[str, np.ndarray]] = []
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        images = []
        for sha in chunk:
            image = image_store.get(sha)
            if image is None:
                raise LookupError(f"image {sha} of a collection is missing from the image store")
            images.append(image)
        parts.append(compute(images))
        tick(len(chunk))
    return {layer: np.concatenate([part[layer] for part in parts]) for layer in parts[0]}


def compute(request: ConceptRequest, used: dict[str, Any], registry: Any, collections: Any, image_store: Any,
            tick: Tick) -> dict[str, Any]:
    """The stored result: the request, the images used (``plan``), the method's
    settings, one row per (concept, layer)."""
    started = time.time()
    loaded = registry.get(request.model)
    layers = list(request.layers)

    def maps(ids: list[str]) -> dict[str, np.ndarray]:
        return _in_batches(image_store, ids, lambda images: layer_maps(loaded, images, layers), tick)

    concept_maps = {c: maps(used["concepts"][c]) for c in request.concepts}
    random_maps = maps(used["random"])
    gradients = _in_batches(image_store, used["images"],
                            lambda images: class_gradients(loaded, images, layers, request.class_index), tick)
    rows = assess_concepts(concept_maps, random_maps, gradients, layers, request.runs, request.seed,
                           linear.sgd_fit, step=lambda: tick(1))
    names = {c: collections.get(c).name for c in request.concepts}
    return {
        "request": request.as_dict(),
        "category": loaded.categories[request.class_index],
        "threshold": threshold(len(layers), len(request.concepts)),
        "used": used,
        "method": {"classifier": "sklearn.linear_model.SGDClassifier", "loss": "hinge", "alpha": linear.ALPHA,
                   "max_iter": linear.MAX_ITER, "tol": linear.TOL, "test_share": cav.TEST_SHARE,
                   "max_images": MAX_IMAGES, "random_cap": RANDOM_CAP, "sklearn": sklearn.__version__,
                   "test": "scipy.stats.ttest_ind, two-sided; Bonferroni over layers x concepts"},
        "results": [{"concept": row.concept, "name": names[row.concept], "layer": row.layer,
                     "score_mean": row.score_mean, "score_std": row.score_std, "p_value": row.p_value,
                     "significant": row.significant, "cav_accuracy": row.cav_accuracy,
                     "null_mean": row.null_mean, "null_std": float(np.std(row.null)), "scores": row.scores,
                     "null": row.null, "accuracies": row.accuracies, "derivatives": row.derivatives}
                    for row in rows],
        "seconds": time.time() - started,
    }
