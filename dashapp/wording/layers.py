"""What a layer's name means, in plain words (``analysis/models/naming.py``'s
roles), in the reader's language."""

from __future__ import annotations

from dashapp.analysis.models.naming import LayerRole, layer_role

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
