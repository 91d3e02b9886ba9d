"""What a channel attribution's baseline is at a layer, kept per model and layer.

Two facts about a layer do not depend on the image, so each model's
weights compute them once per layer in a process:

- whether the rest of the network reads the image **only through** the
  layer's tensor ``A`` (a block output of a chain of blocks, ``layer4``
  before ``avgpool`` and ``fc``), or also through an earlier tensor (a
  conv inside a block: the residual add reads the block's input). Where it
  reads only ``A``, a logit computed with ``A`` set to a constant is the
  same for every image, and is kept: gradient × activation's ``A = 0``
  logits, integrated gradients' logits at the baseline image's ``A'``;
- integrated gradients' ``A'``: the layer's tensor on the baseline image
  (zeros after normalization), the same for every image.

The first is read off a pass that computes the second anyway (or the zero
pass): the image batch requires a gradient there and ``A`` is replaced by a
constant, so the logits require a gradient exactly when some op after the
layer reads an earlier tensor. The entries are keyed by the weights'
identity and version, so weights changed in place are never answered from
an old entry.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class Baseline:
    """What is known at one layer of one model's weights (None: not yet computed)."""

    reads_only_a: bool | None = None
    zero_logits: torch.Tensor | None = None  # (1, K) the logits with A = 0, where reads_only_a
    image_activation: torch.Tensor | None = None  # A' on the baseline image
    image_logits: torch.Tensor | None = None  # (1, K) the logits at A', where reads_only_a


_KEPT: weakref.WeakKeyDictionary[nn.Module, dict[tuple[object, ...], Baseline]] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def _weights_key(module: nn.Module) -> tuple[object, ...]:
    tensors = [*module.parameters(), *module.buffers()]
    return tuple((id(t), t.data_ptr(), t._version, t.dtype, t.device) for t in tensors)


def baseline(module: nn.Module, layer: str) -> Baseline:
    """The entry for ``layer`` of ``module`` as its weights are now (a new, empty one the first time)."""
    key = (layer, _weights_key(module))
    with _GUARD:
        entries = _KEPT.setdefault(module, {})
        found = entries.get(key)
        if found is None:
            for stale in [k for k in entries if k[0] == layer]:
                del entries[stale]  # the same layer under older weights
            found = entries[key] = Baseline()
        return found


def forget(module: nn.Module) -> None:
    """Drop every entry of ``module`` (tests compare against a fresh computation)."""
    with _GUARD:
        _KEPT.pop(module, None)
