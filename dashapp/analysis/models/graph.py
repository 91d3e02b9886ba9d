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
from torch.nn import functional as F

# Modules that apply an elementwise activation and can stand for the one the
# response uses. Anything else after a conv (an add, a pooling) means the
# response is rectified with a plain ReLU, as docs/definitions.md defines it.
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
    """Where a map cell looks in model-input pixels, per axis: cell (row, col)
    covers ``start_x + col * jump_x ± size_x / 2`` horizontally and
    ``start_y + row * jump_y ± size_y / 2`` vertically. Pixel i spans [i, i + 1],
    so the input's own cells start at 0.5. Axes differ for 1×7 / 7×1 kernels
    and non-square strides (Inception)."""

    size_x: float
    size_y: float
    jump_x: float
    jump_y: float
    start_x: float
    start_y: float

    @classmethod
    def square(cls, size: float, jump: float, start: float) -> ReceptiveField:
        return cls(size, size, jump, jump, start, start)

    @property
    def size(self) -> float:
        """The larger side (what a one-number summary shows)."""
        return max(self.size_x, self.size_y)

    def box(self, row: int, col: int) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) in model-input pixels, unclipped."""
        cx = self.start_x + col * self.jump_x
        cy = self.start_y + row * self.jump_y
        return (cx - self.size_x / 2, cy - self.size_y / 2, cx + self.size_x / 2, cy + self.size_y / 2)


INPUT_FIELD = ReceptiveField.square(size=1.0, jump=1.0, start=0.5)


@dataclass(frozen=True)
class ConvTopology:
    norm: str | None  # qualified name of the BatchNorm fed only by this conv
    activation: str | None  # qualified name of the activation right after (norm or conv)
    sees_image: bool  # the conv's input is the model input itself
    receptive_field: ReceptiveField


@dataclass(frozen=True)
class AxisParams:
    """One axis of a resampling module: kernel, stride, padding before the
    first input cell, dilation."""

    kernel: int
    stride: int
    padding: int
    dilation: int


def _pair(value: object) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        return (int(value[0]), int(value[-1]))
    return (int(value), int(value))  # type: ignore[call-overload]


def _kernel_params(module: nn.Module) -> tuple[AxisParams, AxisParams] | None:
    """(height axis, width axis) parameters, or None when the module doesn't resample."""
    if not isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
        return None
    kernel = _pair(module.kernel_size)
    stride = _pair(module.stride)
    dilation = _pair(getattr(module, "dilation", 1))
    padding = module.padding
    if isinstance(padding, str):
        # "valid" pads nothing; "same" pads dilation*(k-1) in all, the smaller
        # half before the first cell (torch's _conv_forward), which is what
        # moves the start.
        pads = (0, 0) if padding == "valid" else tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation, strict=True))
    else:
        pads = _pair(padding)
    return (
        AxisParams(kernel[0], stride[0], pads[0], dilation[0]),
        AxisParams(kernel[1], stride[1], pads[1], dilation[1]),
    )


def _functional_pool_params(node: fx.Node) -> tuple[AxisParams, AxisParams] | None:
    """``F.max_pool2d`` / ``F.avg_pool2d`` written in a forward (Inception's
    pooling branches), read from the call's arguments."""
    if node.op != "call_function" or node.target not in (F.max_pool2d, F.avg_pool2d):
        return None
    names = ("input", "kernel_size", "stride", "padding")
    values = dict(zip(names, node.args, strict=False)) | dict(node.kwargs)
    kernel = _pair(values["kernel_size"])
    stride = _pair(values.get("stride") or values["kernel_size"])  # torch: stride defaults to the kernel
    padding = _pair(values.get("padding", 0))
    dilation = _pair(values.get("dilation", 1))
    return (
        AxisParams(kernel[0], stride[0], padding[0], dilation[0]),
        AxisParams(kernel[1], stride[1], padding[1], dilation[1]),
    )


def _propagate(size: float, jump: float, start: float, axis: AxisParams) -> tuple[float, float, float]:
    effective = (axis.kernel - 1) * axis.dilation + 1
    return (
        size + (effective - 1) * jump,
        jump * axis.stride,
        start + ((effective - 1) / 2 - axis.padding) * jump,
    )


def _resample(incoming: ReceptiveField, params: tuple[AxisParams, AxisParams]) -> ReceptiveField:
    size_y, jump_y, start_y = _propagate(incoming.size_y, incoming.jump_y, incoming.start_y, params[0])
    size_x, jump_x, start_x = _propagate(incoming.size_x, incoming.jump_x, incoming.start_x, params[1])
    return ReceptiveField(size_x, size_y, jump_x, jump_y, start_x, start_y)


def _merge(fields: list[ReceptiveField]) -> ReceptiveField:
    """Where paths merge (a residual add, a concat) the cell sees the union;
    the widest path bounds it, per axis."""
    if len(fields) == 1:
        return fields[0]
    widest_x = max(fields, key=lambda f: f.size_x)
    widest_y = max(fields, key=lambda f: f.size_y)
    return ReceptiveField(widest_x.size_x, widest_y.size_y, widest_x.jump_x, widest_y.jump_y,
                          widest_x.start_x, widest_y.start_y)


def _module_path(key: str) -> str:
    # fx names the second call of a reused module "name@1".
    return key.split("@", 1)[0]


@dataclass(frozen=True)
class GraphDescription:
    convs: dict[str, ConvTopology]  # every Conv2d in forward order
    # Receptive field of each (non-leaf) module's output: the last node traced
    # inside it, in forward order, with that node's position.
    module_outputs: dict[str, tuple[int, ReceptiveField]]


def describe_graph(model: nn.Module) -> GraphDescription:
    """Trace ``model`` and describe every Conv2d and every module's output."""
    # fx's default tracer keeps every torch.nn module as one node, so conv, BN
    # and activation modules appear under their qualified names.
    with TRACING.exclusive():
        graph = fx.Tracer().trace(model)
    modules = dict(model.named_modules())
    fields: dict[fx.Node, ReceptiveField] = {}
    result: dict[str, ConvTopology] = {}
    outputs: dict[str, tuple[int, ReceptiveField]] = {}
    placeholder: fx.Node | None = None

    for position, node in enumerate(graph.nodes):
        if node.op == "placeholder":
            placeholder = node
            fields[node] = INPUT_FIELD
            continue
        inputs = [fields[arg] for arg in node.all_input_nodes if arg in fields]
        if not inputs:
            continue
        module = modules.get(str(node.target)) if node.op == "call_module" else None
        params = _kernel_params(module) if module is not None else _functional_pool_params(node)
        merged = _merge(inputs)
        fields[node] = merged if params is None else _resample(merged, params)
        for key in node.meta.get("nn_module_stack", {}) or {}:
            outputs[_module_path(key)] = (position, fields[node])
        if isinstance(module, nn.Conv2d):
            result[str(node.target)] = ConvTopology(
                norm=None,
                activation=None,
                sees_image=node.all_input_nodes == [placeholder],
                receptive_field=fields[node],
            )
            _attach_followers(node, modules, result)
    return GraphDescription(convs=result, module_outputs=outputs)


def analyse_graph(model: nn.Module) -> dict[str, ConvTopology]:
    """Trace ``model`` and describe every Conv2d found in the trace."""
    return describe_graph(model).convs


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


def output_shapes(model: nn.Module, names: list[str], input_size: int) -> dict[str, tuple[int, int, int]]:
    """(channels, height, width) of each named module's output at the model's
    input size, from one dry run on zeros (exact, whatever the padding
    arithmetic). Modules whose output is not a 4-D tensor, or that do not run
    in eval mode (Inception's auxiliary head), are left out."""
    modules = dict(model.named_modules())
    shapes: dict[str, tuple[int, int, int]] = {}
    handles = []
    for name in names:
        def hook(_m: nn.Module, _i: object, out: object, name: str = name) -> None:
            if isinstance(out, torch.Tensor) and out.dim() == 4:
                shapes[name] = (int(out.shape[1]), int(out.shape[2]), int(out.shape[3]))

        handles.append(modules[name].register_forward_hook(hook))
    try:
        param = next(model.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
        with TRACING.shared(), torch.inference_mode():
            model(torch.zeros(1, 3, input_size, input_size, device=device))
    finally:
        for handle in handles:
            handle.remove()
    return shapes

