"""A conv filter's response before its activation, split exactly by input channel.

A conv is linear: filter ``f``'s output at a cell is
``Σ_c (W[f, c] ⊛ x_c)[cell] + b_f``, the sum over the input channels of the
kernel slice correlated with that channel's neighbourhood. The BatchNorm
that follows (in eval mode, an affine map per channel) scales every term by
``s = γ / √(σ² + ε)`` and moves the bias to ``s (b_f − μ) + β``. So the
**contribution** of channel ``c`` is ``s · (W[f, c] ⊛ x_c)`` and the
contributions plus the folded bias are the pre-activation, exactly (computed
in float64, checked against the network's own float32 value).

``channel_maps`` gives every channel's contribution at every cell as one
depthwise convolution (the conv's own stride, padding and dilation), so a
strided conv, a padded one and a grouped one are decomposed by the same
code torch runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class Folded:
    """Filter ``f`` of a conv with its BatchNorm folded in: ``scale * conv + bias``."""

    scale: float
    bias: float


def fold(conv: nn.Conv2d, norm: nn.Module | None, index: int) -> Folded:
    bias = float(conv.bias[index]) if conv.bias is not None else 0.0
    if not isinstance(norm, nn.BatchNorm2d) or norm.running_var is None or norm.running_mean is None:
        return Folded(1.0, bias)
    gamma = float(norm.weight[index]) if norm.weight is not None else 1.0
    beta = float(norm.bias[index]) if norm.bias is not None else 0.0
    scale = gamma / float(torch.sqrt(norm.running_var[index].double() + norm.eps))
    return Folded(scale, scale * (bias - float(norm.running_mean[index])) + beta)


def group_channels(conv: nn.Conv2d, index: int) -> range:
    """The input channels filter ``index`` reads (all of them unless the conv is grouped)."""
    per_group_in = conv.in_channels // conv.groups
    group = index // (conv.out_channels // conv.groups)
    return range(group * per_group_in, (group + 1) * per_group_in)


def _padded(conv: nn.Conv2d, x: torch.Tensor) -> tuple[torch.Tensor, str | tuple[int, ...] | int]:
    """The input padded as the conv pads it, and the padding left for ``conv2d``."""
    if conv.padding_mode != "zeros":
        return F.pad(x, conv._reversed_padding_repeated_twice, mode=conv.padding_mode), 0
    return x, conv.padding


def channel_maps(conv: nn.Conv2d, x: torch.Tensor, index: int) -> torch.Tensor:
    """(C_group, H', W') float64: each read channel's ``W[index, c] ⊛ x_c`` over the
    output map, without the bias; ``x`` is the conv's (1, C_in, H, W) input."""
    chans = group_channels(conv, index)
    source = x[:, chans.start:chans.stop].double()
    kernel = conv.weight[index].double().unsqueeze(1)  # (C_group, 1, kh, kw)
    source, padding = _padded(conv, source)
    out = F.conv2d(source, kernel, None, conv.stride, padding, conv.dilation, groups=len(chans))
    return out[0]


def reader_maps(conv: nn.Conv2d, x: torch.Tensor, channel: int) -> tuple[range, torch.Tensor]:
    """(the filters that read input ``channel``, (G, H', W') float64): input
    channel ``channel``'s term in each of those filters over the output map."""
    per_group_in = conv.in_channels // conv.groups
    per_group_out = conv.out_channels // conv.groups
    group = channel // per_group_in
    filters = range(group * per_group_out, (group + 1) * per_group_out)
    local = channel - group * per_group_in
    kernel = conv.weight[filters.start:filters.stop, local:local + 1].double()  # (G, 1, kh, kw)
    source, padding = _padded(conv, x[:, channel:channel + 1].double())
    out = F.conv2d(source, kernel, None, conv.stride, padding, conv.dilation)
    return filters, out[0]


def folded_scales(conv: nn.Conv2d, norm: nn.Module | None, filters: range) -> torch.Tensor:
    """(G,) float64: the BatchNorm scale of each filter in ``filters`` (1 without one)."""
    return torch.tensor([fold(conv, norm, g).scale for g in filters], dtype=torch.float64)
