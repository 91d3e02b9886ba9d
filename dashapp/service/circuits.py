"""Circuits and channel attribution for the Analyzer's images and models.

Both are cached like the other analyses: in the shared store every worker
and host reads (``ActivationStore`` blobs under its keys, which hold the
image, the model and its weights; ``circuit_codec.py``), and in front of it
in this process's memo (``memo.py``), so a warm answer is a dictionary
lookup and another worker's first answer a blob read, never a recompute.
Requests are checked here and refused as ``UserError`` in the reader's
language.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from PIL import Image

from dashapp.analysis.attribution.channels import METHODS, ChannelAttribution, channel_attribution
from dashapp.analysis.circuits.circuit import RANKINGS, Circuit, Link, circuit, ranked
from dashapp.analysis.circuits.wiring import wiring
from dashapp.analysis.models.registry import LoadedModel
from dashapp.analysis.scan.scanner import TopExample

from ..errors import UserError
from ..i18n import _
from ..store import Subject
from .circuit_codec import decode_attribution, decode_circuit, encode_attribution, encode_circuit

if TYPE_CHECKING:
    from . import Analyzer
    from .dataset import CollectionLayer

DEFAULT_K = 10
MAX_K = 4096
EXAMPLES = 3  # a neighbour's top dataset examples shown on its card
STORE_VERSION = "c1"  # part of every stored answer's name: a new encoding reads no old blob

log = logging.getLogger(__name__)
T = TypeVar("T")


def _cached(service: Analyzer, loaded: LoadedModel, sha: str, image: Image.Image, name: str,
            compute: Callable[[], T], encode: Callable[[T], bytes], decode: Callable[[bytes], T]) -> T:
    """This process's memo, else the shared store's blob, else ``compute`` (stored in both)."""
    key = service.activations.key(Subject(sha, loaded, image), f"{STORE_VERSION}:{name}")

    def shared() -> T:
        blob = service.activations.get_blob(key)
        if blob is not None:
            try:
                return decode(blob)
            except ValueError:
                log.warning("discarding unreadable stored answer %s", key)
        value = compute()
        service.activations.put_blob(key, encode(value))
        return value

    return service.memo.get_or_compute(key, shared)


def check_k(k: int) -> int:
    if not 0 <= k <= MAX_K:
        raise UserError(_("k must be between 0 and {last} (0 lists every channel).").format(last=MAX_K))
    return k


def check_rank_by(rank_by: str) -> str:
    if rank_by not in RANKINGS:
        raise UserError(_("rank_by must be one of {choices}.").format(choices=", ".join(RANKINGS)))
    return rank_by


def filter_circuit(service: Analyzer, sha: str, model: str, layer: str, index: int) -> Circuit:
    """Filter ``index`` of conv ``layer``: its inputs at its peak cell and its outputs."""
    info = service.models.layer(model, layer)
    if not 0 <= index < info.out_channels:
        raise UserError(_("Filter {index} does not exist: {layer} has filters 0 to {last}.").format(
            index=index, layer=layer, last=info.out_channels - 1), 404)
    loaded = service.models.model(model)
    image = service.library.image(sha)
    return _cached(service, loaded, sha, image, f"circuit:{layer}:{index}",
                   lambda: circuit(loaded, image, layer, index), encode_circuit, decode_circuit)


def attribution(service: Analyzer, sha: str, model: str, layer: str, class_index: int,
                method: str) -> ChannelAttribution:
    """Every channel of ``layer`` (a conv or a block) for ``class_index``, by ``method`` (``METHODS``)."""
    if method not in METHODS:
        raise UserError(_("method must be one of {choices}.").format(choices=", ".join(METHODS)))
    classes = service.models.classes(model)
    if not 0 <= class_index < classes:
        raise UserError(_("class must be between 0 and {last}.").format(last=classes - 1))
    name = service.models.evidence_layer(model, layer).name
    loaded = service.models.model(model)
    image = service.library.image(sha)
    return _cached(service, loaded, sha, image, f"attribution:{name}:{class_index}:{method}",
                   lambda: channel_attribution(loaded, image, name, class_index, method),
                   encode_attribution, decode_attribution)


def scanned_examples(service: Analyzer, collection: str | None,
                     model: str) -> Callable[[str, int], list[TopExample] | None]:
    """``(layer, channel) ->`` the channel's top examples (where it responds at
    all, highest first, at most ``EXAMPLES``) in the collection's finished scan
    with ``model``, as the Dataset page reads them; None without a collection,
    one the viewer may not read, or no finished scan. Each layer's scan is
    read once per page drawn."""
    layers: dict[str, CollectionLayer | None] = {}

    def examples(layer: str, channel: int) -> list[TopExample] | None:
        if not collection:
            return None
        if layer not in layers:
            try:
                layers[layer] = service.collections.layer(collection, model, layer)
            except UserError:
                layers[layer] = None
        found = layers[layer]
        if found is None or layer not in found.result.layers or not 0 <= channel < found.info.out_channels:
            return None
        return found.responding(channel, EXAMPLES)

    return examples


def walk_layer(service: Analyzer, model: str, layer: str) -> str | None:
    """The conv whose filter c is channel c of ``layer`` (a conv itself; a
    block: its branch's last conv), where a walk from that channel goes."""
    loaded = service.models.model(model)
    if layer in loaded.layers:
        return layer
    return wiring(loaded.module).upstream.get(layer)


def link_answer(link: Link) -> dict[str, Any]:
    return {"layer": link.layer, "channel": link.channel, "source": link.source, "contribution": link.contribution,
            "weight_norm": link.weight_norm, "kernel": link.kernel.astype(float).tolist()}


def circuit_answer(found: Circuit, rank_by: str = "peak", k: int = DEFAULT_K) -> dict[str, Any]:
    """The ``GET /api/circuit`` answer: ``Σ contributions + bias = value`` over every input."""
    rank_by, k = check_rank_by(rank_by), check_k(k)
    return {
        "filter": found.filter,
        "cell": list(found.cell),
        "value": found.value,
        "bias": found.bias,
        "inputs": [link_answer(link) for link in ranked(found.inputs, rank_by, k)],
        "outputs": [link_answer(link) for link in ranked(found.outputs, rank_by, k)],
    }


def top_channels(found: ChannelAttribution, k: int) -> list[int]:
    """Channels by attribution, highest first; ``k = 0``: all of them."""
    order = np.argsort(-found.attributions, kind="stable")
    return [int(c) for c in (order if k <= 0 else order[:k])]


def attribution_answer(found: ChannelAttribution, k: int = DEFAULT_K) -> dict[str, Any]:
    """The ``GET /api/attribution`` answer: ``Σ attributions = logit − baseline_logit − residual`` (all channels)."""
    channels = [{"channel": c, "attribution": float(found.attributions[c]),
                 "map": found.maps[c].astype(float).tolist()} for c in top_channels(found, check_k(k))]
    return {"class": found.class_index, "logit": found.logit, "baseline_logit": found.baseline_logit,
            "residual": found.residual, "channels": channels}
