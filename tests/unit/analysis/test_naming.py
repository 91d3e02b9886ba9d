"""Plain-language meaning of layer names."""

from __future__ import annotations

from dashapp.analysis.naming import layer_meaning


def test_resnet_branch_convs_say_where_the_identity_is_added() -> None:
    text = layer_meaning("layer4.1.conv2")
    assert text is not None
    assert text.startswith("layer4.1.conv2 is the second conv of block 1 of stage 4")
    assert "before the identity is added" in text and "layer4.1" in text
    first = layer_meaning("layer4.1.conv1") or ""
    assert "first conv" in first and "before the identity is added" not in first
    # A Bottleneck has three convs: its second is inside the branch, its third is last.
    assert "before the identity" not in (layer_meaning("layer3.0.conv2", convs_in_block=3) or "")
    assert "before the identity is added" in (layer_meaning("layer3.0.conv3", convs_in_block=3) or "")


def test_other_resnet_names_and_unknown_ones() -> None:
    assert "shortcut" in (layer_meaning("layer2.0.downsample.0") or "")
    assert "output of block 1 of stage 4" in (layer_meaning("layer4.1") or "")
    assert "output of stage 4" in (layer_meaning("layer4") or "")
    assert "stem" in (layer_meaning("conv1") or "")
    assert layer_meaning("features.10") is None
