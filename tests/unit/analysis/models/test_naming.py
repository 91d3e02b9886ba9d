"""Where a layer sits in a residual network, from its name (the words:
tests/unit/wording/test_layers.py)."""

from __future__ import annotations

from dashapp.analysis.models.naming import LayerRole, layer_role


def test_resnet_branch_convs_know_which_is_last() -> None:
    assert layer_role("layer4.1.conv2") == LayerRole("layer4.1.conv2", "last_branch_conv", 4, 1, 2)
    assert layer_role("layer4.1.conv1") == LayerRole("layer4.1.conv1", "branch_conv", 4, 1, 1)
    # A Bottleneck has three convs: its second is inside the branch, its third is last.
    assert layer_role("layer3.0.conv2", convs_in_block=3).role == "branch_conv"  # type: ignore[union-attr]
    assert layer_role("layer3.0.conv3", convs_in_block=3).role == "last_branch_conv"  # type: ignore[union-attr]


def test_other_resnet_names_and_unknown_ones() -> None:
    assert layer_role("layer2.0.downsample.0") == LayerRole("layer2.0.downsample.0", "shortcut", 2, 0)
    assert layer_role("layer4.1") == LayerRole("layer4.1", "block", 4, 1)
    assert layer_role("layer4") == LayerRole("layer4", "stage", 4)
    assert layer_role("conv1") == LayerRole("conv1", "stem")
    assert layer_role("features.10") is None
