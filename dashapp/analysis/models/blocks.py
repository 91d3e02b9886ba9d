"""Evidence layers: the conv layers plus the outputs of the network's blocks.

Grad-CAM's usual target in a residual network is a block's output
(``relu(bn2 + identity)`` in a ResNet ``BasicBlock``), which a conv branch
alone leaves out. Blocks are found from the module tree, not listed per
architecture:

- a *block* is a module that is not a ``Sequential``, holds at least two
  convs (a conv wrapper with one conv is just that conv) and is not inside
  another block: ResNet's ``layer4.1``, MobileNet's and EfficientNet's
  ``features.N`` inverted residuals, Inception's ``Mixed_*``;
- a *stage* is a ``Sequential`` whose children are all blocks: ResNet's
  ``layer4``, EfficientNet's ``features.N``; it is listed as a block too.

A listed block must produce a 4-D map in eval mode (Inception's auxiliary
head does not run, so it is not offered). AlexNet and VGG have no blocks:
their evidence layers are their convs.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from dashapp.analysis.models.graph import GraphDescription, ReceptiveField

KINDS = ("conv", "block")


@dataclass(frozen=True)
class BlockInfo:
    name: str
    out_channels: int
    map_size: tuple[int, int]  # (height, width) at the model's input size
    receptive_field: ReceptiveField
    position: int  # forward-order position of the block's output in the traced graph

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "kind": "block", "out_channels": self.out_channels,
                "map_size": list(self.map_size), **field_summary(self.receptive_field)}


def field_summary(rf: ReceptiveField) -> dict[str, float]:
    """The receptive field for JSON: the larger side under the old key, and both sides."""
    return {"receptive_field": rf.size, "receptive_field_width": rf.size_x, "receptive_field_height": rf.size_y}


def _conv_count(module: nn.Module) -> int:
    return sum(isinstance(m, nn.Conv2d) for m in module.modules())


def _is_block(module: nn.Module) -> bool:
    return not isinstance(module, nn.Sequential) and _conv_count(module) >= 2


def block_names(model: nn.Module) -> list[str]:
    """Blocks and stages of ``model`` by qualified name (rule in the module docstring)."""
    names: list[str] = []

    def visit(prefix: str, module: nn.Module) -> None:
        for child_name, child in module.named_children():
            name = f"{prefix}{child_name}"
            children = list(child.children())
            if _is_block(child):
                names.append(name)  # blocks inside a block are its parts, not listed
                continue
            if isinstance(child, nn.Sequential) and children and all(_is_block(c) for c in children):
                names.append(name)
            visit(f"{name}.", child)

    visit("", model)
    return names


def describe_blocks(model: nn.Module, graph: GraphDescription,
                    shapes: dict[str, tuple[int, int, int]]) -> dict[str, BlockInfo]:
    """Every block that yields a map, with its size and receptive field, in
    forward order; ``shapes`` is ``graph.output_shapes`` of (at least) ``block_names(model)``."""
    candidates = [name for name in block_names(model) if name in graph.module_outputs]
    blocks = []
    for name in candidates:
        if name not in shapes:
            continue
        channels, height, width = shapes[name]
        position, field = graph.module_outputs[name]
        blocks.append(BlockInfo(name, channels, (height, width), field, position))
    # A stage ends where its last block does: list the block first, then the stage.
    blocks.sort(key=lambda b: (b.position, -b.name.count(".")))
    return {b.name: b for b in blocks}


@dataclass(frozen=True)
class EvidenceLayer:
    """A layer class evidence can be computed at: a conv (its rectified
    response) or a block (its output)."""

    name: str
    kind: str  # one of KINDS
    map_size: tuple[int, int]
    receptive_field: ReceptiveField
    position: int

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "kind": self.kind, "map_size": list(self.map_size),
                **field_summary(self.receptive_field)}


def order_evidence_layers(layers: list[EvidenceLayer]) -> list[EvidenceLayer]:
    """Forward order; where a block and its stage end together, the block first."""
    return sorted(layers, key=lambda e: (e.position, -e.name.count(".")))


def default_evidence_layer(layers: list[EvidenceLayer]) -> str:
    """The last block to finish (ResNet18: ``layer4``), else the last conv."""
    blocks = [e for e in layers if e.kind == "block"]
    chosen = order_evidence_layers(blocks or layers)
    return chosen[-1].name
