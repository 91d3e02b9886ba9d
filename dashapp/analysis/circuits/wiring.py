"""Which tensor each conv reads, and which convs read each conv's channels.

Read from a ``torch.fx`` trace of the model (as ``models/graph.py``), not
written per architecture. A channel keeps its index through the ops that act
on each channel alone (BatchNorm, elementwise activations, pooling, dropout,
a residual add of two maps of the same width), so:

- a conv's **input source** is the module whose output the conv reads, named
  as a reader would: the outermost module that ends with that tensor
  (``layer1``, ``layer1.0``, AlexNet's ``features.2`` max-pool), else the conv
  whose response it is (``layer1.0.conv1`` inside a block), else ``input``;
  its **upstream conv** is the conv whose channel ``c`` is the input's
  channel ``c`` (followed back through channel-wise ops), the unit a walk up
  the network goes to;
- a conv's **readers** are the convs its channels reach through channel-wise
  ops, and the residual adds where they arrive as a block's *identity path*
  (the operand made outside the block), where the walk stops.

A concat, a flatten or a linear layer moves channels: the walk stops there.
"""

from __future__ import annotations

import operator
import weakref
from dataclasses import dataclass

import torch
from torch import fx, nn
from torch.nn import functional as F

from dashapp.analysis.models.graph import ACTIVATIONS, NORMS, TRACING

IMAGE = "input"
CHANNELWISE_MODULES: tuple[type[nn.Module], ...] = (
    *NORMS, *ACTIVATIONS, nn.MaxPool2d, nn.AvgPool2d, nn.Dropout, nn.Dropout2d, nn.Identity,
)
CHANNELWISE_FUNCTIONS = (operator.add, operator.iadd, torch.add, torch.relu, F.relu, F.max_pool2d, F.avg_pool2d)
CHANNELWISE_METHODS = ("relu", "relu_", "add", "add_")
ADDS = (operator.add, operator.iadd, torch.add, "add", "add_")


@dataclass(frozen=True)
class InputSource:
    source: str  # the module producing the tensor the conv reads, or "input"
    kind: str  # "image", "output" (a module's output) or "response" (a conv's response)
    upstream: str | None  # the conv whose channel c is this tensor's channel c (None: the image)


@dataclass(frozen=True)
class Reader:
    layer: str  # a conv reading the channel, or the block whose identity path carries it
    kind: str  # "conv" or "identity"
    source: str  # the tensor it reads, named as ``InputSource.source``


@dataclass(frozen=True)
class Wiring:
    inputs: dict[str, InputSource]  # conv -> what it reads
    readers: dict[str, list[Reader]]  # conv -> who reads its channels, in forward order
    # module -> the conv whose channel c is its output's channel c (a block's output: its branch's last conv)
    upstream: dict[str, str]


_CACHE: weakref.WeakKeyDictionary[nn.Module, Wiring] = weakref.WeakKeyDictionary()


def wiring(model: nn.Module) -> Wiring:
    """The model's wiring, traced once per module object."""
    found = _CACHE.get(model)
    if found is None:
        with TRACING.exclusive():
            graph = fx.Tracer().trace(model)
        found = _describe(graph, dict(model.named_modules()))
        _CACHE[model] = found
    return found


def _stack(node: fx.Node) -> list[str]:
    return [key.split("@", 1)[0] for key in (node.meta.get("nn_module_stack") or {})]


def _innermost_parent(node: fx.Node) -> str:
    """The innermost module the node runs inside, leaving out its own module."""
    stack = _stack(node)
    if node.op == "call_module" and stack and stack[-1] == str(node.target):
        stack = stack[:-1]
    return stack[-1] if stack else ""


def _is_conv(node: fx.Node, modules: dict[str, nn.Module]) -> bool:
    return node.op == "call_module" and isinstance(modules.get(str(node.target)), nn.Conv2d)


def _channelwise(node: fx.Node, modules: dict[str, nn.Module]) -> bool:
    if node.op == "call_module":
        return isinstance(modules.get(str(node.target)), CHANNELWISE_MODULES)
    if node.op == "call_function":
        return node.target in CHANNELWISE_FUNCTIONS
    return node.op == "call_method" and node.target in CHANNELWISE_METHODS


def _is_add(node: fx.Node) -> bool:
    return node.op in ("call_function", "call_method") and node.target in ADDS


def _upstream(node: fx.Node, modules: dict[str, nn.Module]) -> fx.Node | None:
    """The conv whose channels ``node``'s channels are (first operand of an add: the block's branch)."""
    while not _is_conv(node, modules):
        if not _channelwise(node, modules) or not node.all_input_nodes:
            return None
        node = node.all_input_nodes[0]
    return node


def _names(graph: fx.Graph) -> tuple[dict[fx.Node, str], dict[str, int], dict[str, fx.Node]]:
    """The outermost module ending with each node, every node's position, and each module's last node."""
    last: dict[str, fx.Node] = {}
    positions = {}
    for position, node in enumerate(graph.nodes):
        positions[node.name] = position
        for module in _stack(node):
            last[module] = node
    ending: dict[fx.Node, str] = {}
    for module, node in last.items():
        if node not in ending or module.count(".") < ending[node].count("."):
            ending[node] = module
    return ending, positions, last


def _source(node: fx.Node, modules: dict[str, nn.Module], ending: dict[fx.Node, str]) -> InputSource:
    upstream = _upstream(node, modules)
    upstream_name = str(upstream.target) if upstream is not None else None
    if node.op == "placeholder":
        return InputSource(IMAGE, "image", None)
    own = str(node.target) if node.op == "call_module" else None
    norm_or_activation = isinstance(modules.get(own or ""), (*NORMS, *ACTIVATIONS))
    if node in ending and not (norm_or_activation and ending[node] == own and upstream_name):
        return InputSource(ending[node], "output", upstream_name)
    if upstream_name is not None:
        return InputSource(upstream_name, "response", upstream_name)
    return InputSource(str(node.target) if node.op == "call_module" else node.name, "output", None)


def _readers(conv: fx.Node, modules: dict[str, nn.Module], sources: dict[str, InputSource]) -> list[Reader]:
    found: dict[str, Reader] = {}
    frontier = [conv]
    seen = {conv}
    while frontier:
        node = frontier.pop()
        for user in node.users:
            if _is_conv(user, modules):
                name = str(user.target)
                found.setdefault(name, Reader(name, "conv", sources[name].source))
                continue
            if _is_add(user):
                block = _innermost_parent(user)
                made_in = _innermost_parent(node)
                inside = block and (made_in == block or made_in.startswith(block + "."))
                if not inside:
                    found.setdefault(f"identity:{block}", Reader(block, "identity", block))
                    continue
            if _channelwise(user, modules) and user not in seen:
                seen.add(user)
                frontier.append(user)
    return list(found.values())


def _describe(graph: fx.Graph, modules: dict[str, nn.Module]) -> Wiring:
    ending, positions, last = _names(graph)
    convs = [node for node in graph.nodes if _is_conv(node, modules)]
    sources = {str(node.target): _source(node.all_input_nodes[0], modules, ending) for node in convs}
    readers = {}
    for node in convs:
        found = _readers(node, modules, sources)
        order = {str(n.target): positions[n.name] for n in convs}
        readers[str(node.target)] = sorted(found, key=lambda r: (r.kind != "conv", order.get(r.layer, 0), r.layer))
    upstream = {}
    for module, node in last.items():
        conv = _upstream(node, modules)
        if conv is not None:
            upstream[module] = str(conv.target)
    return Wiring(inputs=sources, readers=readers, upstream=upstream)
