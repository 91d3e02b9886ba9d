"""Run the network before a layer once for two passes of the same batch.

Gradient × activation needs a second pass with the layer's tensor ``A`` set
to zero where the rest of the network also reads an earlier tensor (a conv
inside a ResNet block: the residual add reads the block's input), so that
pass cannot start from ``A``. It can start from what the first pass
computed: a ``Recording`` keeps, in call order, the output of every leaf
module (conv, BatchNorm, ReLU, pooling) up to ``A``, and ``replaying`` hands
the second pass the k-th recorded output of a module at its k-th call
instead of computing it. The modules are called in the same order on the
same batch, so the outputs are the same tensors; one changed in place since
(a BatchNorm's output under an in-place ReLU) is computed again from its
inputs, which are themselves replayed or computed. Calls after ``A`` and
every op that is not a leaf module (a residual add, a flatten) run as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle


class Recording:
    """Each leaf module's outputs up to ``A``, with each tensor's version when it was produced."""

    def __init__(self) -> None:
        self.calls: dict[nn.Module, list[tuple[torch.Tensor, int] | None]] = {}
        self.reached = False  # set by the hook that hands the network A: later calls are not kept

    def hook(self, module: nn.Module, _inputs: object, output: object) -> None:
        if self.reached:
            return
        kept = (output, output._version) if isinstance(output, torch.Tensor) else None
        self.calls.setdefault(module, []).append(kept)


@contextmanager
def recording(module: nn.Module, record: Recording | None) -> Iterator[None]:
    """Keep the leaf modules' outputs of the pass run inside, into ``record`` (nothing when None)."""
    handles: list[RemovableHandle] = []
    if record is not None:
        handles = [part.register_forward_hook(record.hook) for part in module.modules() if not any(part.children())]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _replayed(original: Callable[..., Any], calls: list[tuple[torch.Tensor, int] | None]) -> Callable[..., Any]:
    count = 0

    def forward(*args: Any, **kwargs: Any) -> Any:
        nonlocal count
        index, count = count, count + 1
        kept = calls[index] if index < len(calls) else None
        if kept is not None and kept[0]._version == kept[1]:
            return kept[0]
        return original(*args, **kwargs)

    return forward


@contextmanager
def replaying(record: Recording | None) -> Iterator[None]:
    """The pass run inside reads ``record``'s outputs instead of computing them (as usual when None)."""
    patched: list[tuple[nn.Module, Callable[..., Any] | None]] = []
    try:
        for part, calls in ({} if record is None else record.calls).items():
            patched.append((part, part.__dict__.get("forward")))
            part.forward = _replayed(part.forward, calls)
        yield
    finally:
        for part, own in patched:
            if own is None:
                del part.forward
            else:
                part.forward = own
