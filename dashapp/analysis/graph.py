"""What the network's graph says about each conv layer.

The response definition (the BatchNorm and activation that follow a conv) and
the receptive field (strides, kernels, paddings and dilations on the path from
the image) are read from a ``torch.fx`` trace of the model, not written by hand
per architecture, so any torchvision classifier gets the same treatment.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import fx, nn

# Modules that apply an elementwise activation and can stand for the one the
# response uses. Anything else after a conv (an add, a pooling) means the
# response is rectified with a plain ReLU, as DESIGN.md defines it.
ACTIVATIONS: tuple[type[nn.Module], ...] = (nn.ReLU, nn.ReLU6, nn.Hardswish, nn.SiLU, nn.GELU, nn.LeakyReLU, nn.ELU)
NORMS: tuple[type[nn.Module], ...] = (nn.BatchNorm2d,)


class SharedExclusiveLock:
    """Many holders in shared mode, or one in exclusive mode.

    torch.fx tracing patches ``nn.Module.__call__`` for the whole process
    while it runs, so a forward pass in another thread at that moment would
    be traced instead of run. Tracing takes this lock exclusively; forward
    passes take it shared, so they still run side by side.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._shared = 0
        self._exclusive = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._condition:
            while self._exclusive:
                self._condition.wait()
            self._shared += 1
        try:
            yield
        finally:
            with self._condition:
                self._shared -= 1
                if not self._shared:
                    self._condition.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._condition:
            while self._exclusive or self._shared:
                self._condition.wait()
            self._exclusive = True
        try:
            yield
        finally:
            with self._condition:
                self._exclusive = False
                self._condition.notify_all()


TRACING = SharedExclusiveLock()


@dataclass(frozen=True)
class ReceptiveField:
    """Where a map cell looks in model-input pixels: cell j covers
    ``start + j * jump ± size / 2`` along each axis."""

    size: float
    jump: float
    start: float

    def box(self, row: int, col: int) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) in model-input pixels, unclipped."""
        cx = self.start + col * self.jump
        cy = self.start + row * self.jump
        half = self.size / 2
        return (cx - half, cy - half, cx + half, cy + half)


@dataclass(frozen=True)
class ConvTopology:
    norm: str | None  # qualified name of the BatchNorm fed only by this conv
    activation: str | None  # qualified name of the activation right after (norm or conv)
    sees_image: bool  # the conv's input is the model input itself
    receptive_field: ReceptiveField


def _kernel_params(module: nn.Module) -> tuple[int, int, int, int] | None:
    """(kernel, stride, padding, dilation) along the height axis, or None when the module doesn't resample."""
    if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
        def first(v: object) -> int:
            return int(v[0]) if isinstance(v, (tuple, list)) else int(v)  # type: ignore[index, arg-type, call-overload]

        padding = module.padding
        if isinstance(padding, str):  # "same"/"valid" convs
            padding_value = 0 if padding == "valid" else (first(module.kernel_size) - 1) // 2
        else:
            padding_value = first(padding)
        dilation = first(getattr(module, "dilation", 1))
        return first(module.kernel_size), first(module.stride), padding_value, dilation
    return None


def analyse_graph(model: nn.Module) -> dict[str, ConvTopology]:
    """Trace ``model`` and describe every Conv2d found in the trace."""
    # fx's default tracer keeps every torch.nn module as one node, so conv, BN
    # and activation modules appear under their qualified names.
    with TRACING.exclusive():
        graph = fx.Tracer().trace(model)
    modules = dict(model.named_modules())
    fields: dict[fx.Node, ReceptiveField] = {}
    result: dict[str, ConvTopology] = {}
    placeholder: fx.Node | None = None

    for node in graph.nodes:
        if node.op == "placeholder":
            placeholder = node
            fields[node] = ReceptiveField(size=1.0, jump=1.0, start=0.5)
            continue
        inputs = [arg for arg in node.all_input_nodes if arg in fields]
        if not inputs:
            continue
        # Where paths merge (a residual add, a concat) the cell sees the union;
        # the widest path bounds it.
        incoming = max((fields[arg] for arg in inputs), key=lambda f: f.size)
        module = modules.get(str(node.target)) if node.op == "call_module" else None
        params = _kernel_params(module) if module is not None else None
        if params is None:
            fields[node] = incoming
        else:
            kernel, stride, padding, dilation = params
            effective = (kernel - 1) * dilation + 1
            fields[node] = ReceptiveField(
                size=incoming.size + (effective - 1) * incoming.jump,
                jump=incoming.jump * stride,
                start=incoming.start + ((effective - 1) / 2 - padding) * incoming.jump,
            )
        if isinstance(module, nn.Conv2d):
            result[str(node.target)] = ConvTopology(
                norm=None,
                activation=None,
                sees_image=node.all_input_nodes == [placeholder],
                receptive_field=fields[node],
            )
            _attach_followers(node, modules, result)
    return result


def _single_user_module(
    node: fx.Node, modules: dict[str, nn.Module], kinds: tuple[type[nn.Module], ...]
) -> fx.Node | None:
    users = list(node.users)
    if len(users) != 1:
        return None
    user = users[0]
    if user.op == "call_module" and isinstance(modules.get(str(user.target)), kinds):
        return user
    return None


def _attach_followers(conv_node: fx.Node, modules: dict[str, nn.Module], result: dict[str, ConvTopology]) -> None:
    name = str(conv_node.target)
    norm_node = _single_user_module(conv_node, modules, NORMS)
    tail = norm_node if norm_node is not None else conv_node
    act_node = _single_user_module(tail, modules, ACTIVATIONS)
    old = result[name]
    result[name] = ConvTopology(
        norm=str(norm_node.target) if norm_node is not None else None,
        activation=str(act_node.target) if act_node is not None else None,
        sees_image=old.sees_image,
        receptive_field=old.receptive_field,
    )


def map_size(model: nn.Module, layer_names: list[str], input_size: int) -> dict[str, tuple[int, int]]:
    """Spatial size of each conv's output at the model's input size, from one
    dry run on zeros (exact, whatever the padding arithmetic)."""
    modules = dict(model.named_modules())
    sizes: dict[str, tuple[int, int]] = {}
    handles = []
    for name in layer_names:
        def hook(_m: nn.Module, _i: object, out: torch.Tensor, name: str = name) -> None:
            sizes[name] = (int(out.shape[-2]), int(out.shape[-1]))

        handles.append(modules[name].register_forward_hook(hook))
    try:
        param = next(model.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
        with TRACING.shared(), torch.inference_mode():
            model(torch.zeros(1, 3, input_size, input_size, device=device))
    finally:
        for handle in handles:
            handle.remove()
    return sizes

