"""What a layer's name means (ResNet-style names), as facts.

A conv inside a residual block is a *branch*: its response does not include
the identity path, which is added after the block's last conv. Users reading
``layer4.1.conv2`` as "the output of layer 4" misread what they see, so the
pages say it (``wording/layers.py`` words these facts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BRANCH = re.compile(r"^layer(\d+)\.(\d+)\.conv(\d+)$")
_SHORTCUT = re.compile(r"^layer(\d+)\.(\d+)\.downsample\.0$")
_BLOCK = re.compile(r"^layer(\d+)\.(\d+)$")
_STAGE = re.compile(r"^layer(\d+)$")

ROLES = ("stem", "last_branch_conv", "branch_conv", "shortcut", "block", "stage")


@dataclass(frozen=True)
class LayerRole:
    """Where ``name`` sits in a residual network."""

    name: str
    role: str  # one of ROLES
    stage: int = 0
    block: int = 0
    conv: int = 0  # 1-based position of a conv on its block's branch


def layer_role(name: str, convs_in_block: int = 2) -> LayerRole | None:
    """The role of ``name``, or None for names without a known pattern.

    ``convs_in_block``: convs on the block's branch (2 in a ResNet
    ``BasicBlock``, 3 in a ``Bottleneck``), to say which conv comes last.
    """
    if name == "conv1":
        return LayerRole(name, "stem")
    if match := _BRANCH.match(name):
        stage, block, conv = (int(g) for g in match.groups())
        role = "last_branch_conv" if conv == convs_in_block else "branch_conv"
        return LayerRole(name, role, stage, block, conv)
    if match := _SHORTCUT.match(name):
        stage, block = (int(g) for g in match.groups())
        return LayerRole(name, "shortcut", stage, block)
    if match := _BLOCK.match(name):
        return LayerRole(name, "block", int(match.group(1)), int(match.group(2)))
    if match := _STAGE.match(name):
        return LayerRole(name, "stage", int(match.group(1)))
    return None
