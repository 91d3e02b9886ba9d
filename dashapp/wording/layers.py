"""What a layer's name means, in plain words (``analysis/models/naming.py``'s
roles), in the reader's language."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dashapp.analysis.models.naming import LayerRole, layer_role
from dashapp.analysis.models.registry import LayerInfo

from ..i18n import N_, _

# "the first conv" ... with the article: Spanish makes the ordinal agree
# with "convolución" (feminine).
ORDINAL_CONVS = (N_("the first conv"), N_("the second conv"), N_("the third conv"), N_("the fourth conv"),
                 N_("the fifth conv"), N_("the sixth conv"), N_("the seventh conv"), N_("the eighth conv"))


def ordinal_conv(n: int) -> str:
    if 1 <= n <= len(ORDINAL_CONVS):
        return _(ORDINAL_CONVS[n - 1])
    return _("conv {number}").format(number=n)


def describe_role(role: LayerRole) -> str:
    name, stage, block = role.name, role.stage, role.block
    if role.role == "stem":
        return _("{name} is the stem: the first conv, applied to the image itself.").format(name=name)
    if role.role == "last_branch_conv":
        return _("{name} is {conv} of block {block} of stage {stage}, the last one before the identity is added: "
                 "its response is the conv branch alone, without the identity path (the block's output is "
                 "{output}).").format(name=name, conv=ordinal_conv(role.conv), block=block, stage=stage,
                                      output=f"layer{stage}.{block}")
    if role.role == "branch_conv":
        return _("{name} is {conv} of block {block} of stage {stage}, inside the branch (the identity is added after "
                 "the block's last conv).").format(name=name, conv=ordinal_conv(role.conv), block=block, stage=stage)
    if role.role == "shortcut":
        return _("{name} is the 1×1 conv on the shortcut of block {block} of stage {stage}: it resizes the identity "
                 "so it can be added to the branch.").format(name=name, block=block, stage=stage)
    if role.role == "block":
        return _("{name} is the output of block {block} of stage {stage}: the conv branch plus the identity, "
                 "rectified.").format(name=name, block=block, stage=stage)
    return _("{name} is the output of stage {stage}: the output of its last block (conv branch plus identity, "
             "rectified).").format(name=name, stage=stage)


def layer_meaning(name: str, convs_in_block: int = 2) -> str | None:
    """A sentence on what ``name`` is, or None for names without a known pattern
    (``convs_in_block``: see ``analysis.naming.layer_role``)."""
    role = layer_role(name, convs_in_block)
    return describe_role(role) if role else None


def _pixels(x: float, y: float) -> str:
    return f"{x:.0f}×{y:.0f}"


def conv_facts(name: str, layers: Mapping[str, LayerInfo], input_size: int | None = None) -> str | None:
    """A plain conv stack's layer (AlexNet's ``features.N``, VGG's) in facts
    read from the model: its place among the convs, kernels, stride, filters,
    what a map cell sees of the input and how far apart cells are; None for a
    name that is not one of ``layers``."""
    info = layers.get(name)
    if info is None:
        return None
    names = list(layers)
    position = names.index(name)
    field = info.receptive_field
    text = _("{name} is {conv} of {count} convs: {n} filters of {kernel} kernels, stride {stride}. Each map cell "
             "sees {field} px of the model's input{size}, one cell every {jump} px.").format(
        name=name, conv=ordinal_conv(position + 1), count=len(names), n=info.out_channels,
        kernel=_pixels(info.kernel_size[1], info.kernel_size[0]), stride=_pixels(info.stride[1], info.stride[0])
        if info.stride[0] != info.stride[1] else str(info.stride[0]), field=_pixels(field.size_x, field.size_y),
        size=f" ({input_size}×{input_size})" if input_size else "",
        jump=_pixels(field.jump_x, field.jump_y) if field.jump_x != field.jump_y else f"{field.jump_x:.0f}")
    if position > 0:
        previous = layers[names[position - 1]]
        expected = previous.receptive_field.jump_x * info.stride[1]
        if field.jump_x > expected:  # a pooling between the two convs coarsened the grid
            text += " " + _("A pooling before it coarsens the grid (one cell every {before} px at {previous}).").format(
                before=f"{previous.receptive_field.jump_x:.0f}", previous=previous.name)
    if info.activation:
        text += " " + _("Its map is shown after its activation ({activation}).").format(activation=info.activation)
    return text


def branch_convs(layers: Iterable[str], name: str) -> int:
    """Convs on the branch of the block holding ``name`` (2 in a BasicBlock, 3 in a Bottleneck)."""
    block = name.rsplit(".", 1)[0]
    return sum(1 for layer in layers if layer.startswith(f"{block}.conv")) or 2


def explain_layer(name: str, layers: Mapping[str, LayerInfo], input_size: int | None = None) -> str | None:
    """What ``name`` is: its role in a residual network (by name), else the facts of a plain conv."""
    return layer_meaning(name, branch_convs(layers, name)) or conv_facts(name, layers, input_size)
