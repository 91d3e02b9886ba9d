"""What a layer's name means, in plain words (ResNet-style names).

A conv inside a residual block is a *branch*: its response does not include
the identity path, which is added after the block's last conv. Users reading
``layer4.1.conv2`` as "the output of layer 4" misread what they see, so the
pages say it.
"""

from __future__ import annotations

import re

ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")

_BRANCH = re.compile(r"^layer(\d+)\.(\d+)\.conv(\d+)$")
_SHORTCUT = re.compile(r"^layer(\d+)\.(\d+)\.downsample\.0$")
_BLOCK = re.compile(r"^layer(\d+)\.(\d+)$")
_STAGE = re.compile(r"^layer(\d+)$")


def _ordinal(n: int) -> str:
    return ORDINALS[n - 1] if 1 <= n <= len(ORDINALS) else f"{n}th"


def layer_meaning(name: str, convs_in_block: int = 2) -> str | None:
    """A sentence on what ``name`` is, or None for names without a known pattern.

    ``convs_in_block``: convs on the block's branch (2 in a ResNet
    ``BasicBlock``, 3 in a ``Bottleneck``), to say which conv comes last.
    """
    if name == "conv1":
        return "conv1 is the stem: the first conv, applied to the image itself."
    if match := _BRANCH.match(name):
        stage, block, conv = (int(g) for g in match.groups())
        where = f"block {block} of stage {stage}"
        if conv == convs_in_block:
            return (f"{name} is the {_ordinal(conv)} conv of {where}, the last one before the identity is added: "
                    f"its response is the conv branch alone, without the identity path "
                    f"(the block's output is layer{stage}.{block}).")
        return (f"{name} is the {_ordinal(conv)} conv of {where}, inside the branch "
                "(the identity is added after the block's last conv).")
    if match := _SHORTCUT.match(name):
        stage, block = (int(g) for g in match.groups())
        return (f"{name} is the 1×1 conv on the shortcut of block {block} of stage {stage}: it resizes the "
                "identity so it can be added to the branch.")
    if match := _BLOCK.match(name):
        return (f"{name} is the output of block {match.group(2)} of stage {match.group(1)}: "
                "the conv branch plus the identity, rectified.")
    if match := _STAGE.match(name):
        return (f"{name} is the output of stage {match.group(1)}: the output of its last block "
                "(conv branch plus identity, rectified).")
    return None
