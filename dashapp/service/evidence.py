"""Class evidence and its sanity check for one subject, through the shared store.

Evidence maps are stored normalized to max 1, as computed (float32: the API
answers them losslessly, never rounded to float16), and their raw maximum,
``scale``, beside them as a small JSON entry; the sanity check's result is stored as JSON too, so any
worker answers a check another one ran. These functions take what they
read (the store, the memo, the subject), not the view that calls them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dashapp.analysis.attribution.gradcam import METHODS, evidence
from dashapp.analysis.attribution.sanity import evidence_sanity
from dashapp.analysis.maps.geometry import MapGeometry, map_geometry
from dashapp.analysis.models.blocks import EvidenceLayer

from ..errors import UserError
from ..i18n import _
from ..store import ActivationStore, Subject
from ..store.codec import decode_meta, encode_meta
from ..wording.sanity import with_sentence
from .memo import Memo

SANITY_SEED = 1234  # the randomization's seed: part of the cache key, so a result is reproducible
# Each check randomizes a private deep copy of the model (AlexNet: 240 MB): at
# most this many at once per worker process; the next waits its turn, up to
# SANITY_WAIT_S, then is told the server is busy.
MAX_CONCURRENT_SANITY = 2
SANITY_WAIT_S = 20.0
_SANITY_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT_SANITY)


class SanityQueued(UserError):
    """Every slot is taken and the caller asked not to wait here: the page
    says the check is queued, then waits for its turn in a second request."""

    status = 429


@dataclass(frozen=True)
class EvidenceAnswer:
    layer: EvidenceLayer
    class_index: int
    method: str
    map: np.ndarray  # (H, W) float32, max 1 (all zeros: no positive evidence)
    scale: float  # raw map = map * scale
    geometry: MapGeometry

    def as_dict(self) -> dict[str, Any]:
        return {"layer": self.layer.name, "kind": self.layer.kind, "class": self.class_index, "method": self.method,
                "map": self.map.astype(float).tolist(), "scale": self.scale, "geometry": self.geometry.as_dict()}


def checked_request(subject: Subject, class_index: int, method: str) -> None:
    if method not in METHODS:
        raise UserError(_("method must be one of {choices}.").format(choices=", ".join(METHODS)))
    if not 0 <= class_index < len(subject.model.categories):
        raise UserError(_("class must be between 0 and {last}.").format(last=len(subject.model.categories) - 1))


def _scale(store: ActivationStore, subject: Subject, layer: EvidenceLayer, class_index: int, method: str,
           key: str) -> float:
    """The stored scale; recomputed (and stored again) if its entry was evicted."""
    blob = store.get_blob(key)
    if blob is not None:
        try:
            return float(decode_meta(blob)["scale"])
        except (ValueError, KeyError, TypeError):
            pass
    scale = evidence(subject.model, subject.image, layer.name, class_index, method).scale
    store.put_blob(key, encode_meta({"scale": scale}))
    return scale


_F32_MAGIC = b"dashapp-evidence-float32\n"


def _encode_float32(fmap: np.ndarray) -> bytes:
    header = json.dumps({"shape": list(fmap.shape)}).encode()
    return _F32_MAGIC + header + b"\n" + np.ascontiguousarray(fmap, dtype="<f4").tobytes()


def _decode_float32(blob: bytes) -> np.ndarray:
    if not blob.startswith(_F32_MAGIC):
        raise ValueError("not a float32 evidence entry")
    header, _sep, body = blob[len(_F32_MAGIC):].partition(b"\n")
    shape = [int(n) for n in json.loads(header)["shape"]]
    if len(shape) != 2 or min(shape) < 0 or len(body) != 4 * shape[0] * shape[1]:
        raise ValueError("damaged float32 evidence entry")
    return np.frombuffer(body, dtype="<f4").astype(np.float32).reshape(shape)


def _exact_map(store: ActivationStore, key: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """The evidence map as computed (float32, bit for bit), stored, else computed and stored."""
    blob = store.get_blob(key)
    if blob is not None:
        try:
            return _decode_float32(blob)
        except (ValueError, KeyError, TypeError):
            pass  # damaged: computed again below
    fmap = np.asarray(compute(), dtype=np.float32)
    store.put_blob(key, _encode_float32(fmap))
    return fmap


def class_evidence(store: ActivationStore, memo: Memo, subject: Subject, layer: EvidenceLayer, class_index: int,
                   method: str) -> EvidenceAnswer:
    checked_request(subject, class_index, method)
    name = f"{method}:{layer.name}:{class_index}"
    scale_key = store.key(subject, f"{name}:scale")
    computed: dict[str, float] = {}

    def compute() -> np.ndarray:
        result = evidence(subject.model, subject.image, layer.name, class_index, method)
        computed["scale"] = result.scale
        store.put_blob(scale_key, encode_meta({"scale": result.scale}))
        return result.map

    fmap = _exact_map(store, store.key(subject, f"{name}:float32"), compute)
    scale = computed.get("scale")
    if scale is None:
        memo_key = ("evidence_scale", subject.model.name, subject.model.weights.tag, subject.sha, name)
        scale = memo.get_or_compute(memo_key, lambda: _scale(store, subject, layer, class_index, method, scale_key))
    geometry = map_geometry(layer.receptive_field, subject.model.input_size, subject.image.width,
                            subject.image.height)
    return EvidenceAnswer(layer, class_index, method, fmap, scale, geometry)


def _stored_sanity(store: ActivationStore, key: str, subject: Subject) -> dict[str, Any] | None:
    blob = store.get_blob(key)
    if blob is not None:
        try:
            return with_sentence(decode_meta(blob), subject.model.weights.pretrained)
        except ValueError:
            pass
    return None


def sanity(store: ActivationStore, subject: Subject, layer: EvidenceLayer, class_index: int, method: str, *,
           compute: bool = True, progress: Callable[[int, int], None] | None = None,
           wait: bool = True) -> dict[str, Any] | None:
    """The cascading randomization check's result (``SanityResult.as_dict()``
    and its verdict in words under "sentence"), from the store, else computed
    and stored (or None when ``compute`` is False). With every slot taken it
    waits up to SANITY_WAIT_S, or, without ``wait``, raises SanityQueued at once."""
    checked_request(subject, class_index, method)
    key = store.key(subject, f"sanity:{SANITY_SEED}:{method}:{layer.name}:{class_index}")
    stored = _stored_sanity(store, key, subject)
    if stored is not None or not compute:
        return stored
    if not wait and not _SANITY_SLOTS.acquire(blocking=False):
        raise SanityQueued(_("Queued: another sanity check is running on the server; this one starts when it "
                             "ends."))
    if wait and not _SANITY_SLOTS.acquire(timeout=SANITY_WAIT_S):
        raise UserError(_("The server is running other sanity checks; please try again in a minute."), 429)
    try:
        stored = _stored_sanity(store, key, subject)  # run by the request this one waited behind?
        if stored is not None:
            return stored
        result = evidence_sanity(subject.model, subject.image, layer.name, class_index, method, seed=SANITY_SEED,
                                 progress=progress).as_dict()
        result.update({"layer": layer.name, "class": class_index, "method": method})
        # Stored before the slot is freed, so the request waiting for it reads this result.
        store.put_blob(key, encode_meta(result))  # facts only: the sentence is said in each reader's language
    finally:
        _SANITY_SLOTS.release()
    return with_sentence(result, subject.model.weights.pretrained)
