"""A concept test as asked (``POST /api/concepts``), checked: which model,
weights, collections, class, layers, runs and seed. Its key, a hash of all
of them, is the job's id: the same question asked again is the same job,
and the stored result names everything needed to compute it again."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from dashapp.analysis.models.blocks import EvidenceLayer
from dashapp.analysis.tcav.experiment import DEFAULT_RUNS, MAX_RUNS, MIN_CLASS_IMAGES, MIN_CONCEPT_IMAGES

from ...errors import UserError
from ...i18n import _

KEY_VERSION = "tcav1"
MAX_CONCEPTS = 8
MAX_LAYERS = 8
DEFAULT_LAYERS = 4  # the last layer at each map size, the deepest four
MIN_RANDOM_IMAGES = 2 * MIN_CONCEPT_IMAGES  # half of a run's random images play the concept in the null


@dataclass(frozen=True)
class ConceptRequest:
    model: str
    weights: str  # the weights tag the job ran with
    concepts: tuple[str, ...]  # collection ids, in the asked order
    random: str
    class_index: int
    images: str  # the class images' collection
    layers: tuple[str, ...]
    runs: int
    seed: int

    @property
    def key(self) -> str:
        return hashlib.sha256(json.dumps([KEY_VERSION, *self.as_dict().values()]).encode()).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["concepts"], data["layers"] = list(self.concepts), list(self.layers)
        return data

    def to_json(self) -> bytes:
        return json.dumps(self.as_dict()).encode()

    @classmethod
    def from_json(cls, blob: bytes) -> ConceptRequest:
        data = json.loads(blob)
        return cls(**{**data, "concepts": tuple(data["concepts"]), "layers": tuple(data["layers"])})


def default_layers(layers: list[EvidenceLayer]) -> list[str]:
    """The last conv or block output of each stage (each map size), the deepest DEFAULT_LAYERS of them."""
    last: dict[tuple[int, int], str] = {}
    for layer in layers:  # forward order: a later layer at the same size replaces the earlier
        last.pop(layer.map_size, None)
        last[layer.map_size] = layer.name
    return list(last.values())[-DEFAULT_LAYERS:]


def _whole(body: dict[str, Any], name: str, default: int | None, low: int, high: int) -> int:
    value = body.get(name, default)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if value is None or isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UserError(_("{name} must be a whole number between {low} and {high}.").format(
            name=name, low=low, high=high))
    return value


def _ids(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name)
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise UserError(_("{name} must name collections by id (GET /api/collections lists them).").format(name=name))
    return values


def _collection(collections: Any, collection_id: str, minimum: int, role: str) -> Any:
    found = collections.get(collection_id[:64])
    if found is None:
        raise UserError(_("There is no collection {id}.").format(id=repr(collection_id[:64])), 404)
    if len(found.images) < minimum:
        raise UserError(_("{role} {name} has {count} images; a concept test needs at least {minimum}.").format(
            role=role, name=repr(found.name), count=len(found.images),
                                               minimum=minimum))
    return found


def _layers(body: dict[str, Any], available: list[EvidenceLayer]) -> list[str]:
    names = [layer.name for layer in available]
    asked = body.get("layers") or default_layers(available)
    if isinstance(asked, str):
        asked = [asked]
    if not isinstance(asked, list) or len(asked) > MAX_LAYERS:
        raise UserError(_("layers must be a list of at most {n} layer names.").format(n=MAX_LAYERS))
    unknown = [str(layer)[:40] for layer in asked if layer not in names]
    if unknown:
        raise UserError(_("The model has no conv layer or block named {layer}; GET /api/models lists its "
                          "evidence layers.").format(layer=repr(unknown[0])), 404)
    return sorted(set(asked), key=names.index)  # forward order, once each


def _class_index(raw: Any, model: str, classes: int) -> int:
    if raw is None:
        raise UserError(_("class is required: the index of the class to test, 0 to {last}.").format(last=classes - 1))
    text = str(raw)[:12]
    if isinstance(raw, bool) or not isinstance(raw, int | str) or not text.lstrip("-").isdigit() \
            or not 0 <= int(text) < classes:
        raise UserError(_("Class {index} does not exist: {model} has classes 0 to {last}.").format(
            index=repr(text), model=model, last=classes - 1))
    return int(text)


def check_request(body: Any, registry: Any, collections: Any) -> ConceptRequest:
    """``body`` (the API's JSON) as a request, or a UserError saying what is wrong."""
    if not isinstance(body, dict):
        raise UserError(_("Send a JSON object: model, concepts, random, class, images, layers, runs."))
    model = body.get("model") or registry.names[0]
    if model not in registry.names:
        raise UserError(_("Unknown model {model}; available: {models}.").format(
            model=repr(str(model)[:40]), models=", ".join(registry.names)), 404)
    loaded = registry.get(model)
    class_index = _class_index(body.get("class"), model, len(loaded.categories))
    concepts = list(dict.fromkeys(_ids(body, "concepts")))
    if len(concepts) > MAX_CONCEPTS:
        raise UserError(_("At most {n} concepts per test.").format(n=MAX_CONCEPTS))
    (random,) = _ids(body, "random")[:1]
    if random in concepts:
        raise UserError(_("The random collection cannot also be a concept."))
    for concept in concepts:
        _collection(collections, concept, MIN_CONCEPT_IMAGES, _("The concept collection"))
    _collection(collections, random, MIN_RANDOM_IMAGES, _("The random collection"))
    (images,) = _ids(body, "images")[:1]
    _collection(collections, images, MIN_CLASS_IMAGES, _("The class images' collection"))
    layers = _layers(body, loaded.evidence_layers())
    runs = _whole(body, "runs", DEFAULT_RUNS, 2, MAX_RUNS)
    seed = _whole(body, "seed", 0, 0, 2**31 - 1)
    return ConceptRequest(model, loaded.weights.tag, tuple(concepts), random, class_index, images, tuple(layers),
                          runs, seed)
