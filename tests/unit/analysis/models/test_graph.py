"""Two-dimensional receptive fields: 1×7 / 7×1 kernels, non-square strides,
every padding form, against hand-computed values and the gradient's support."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from dashapp.analysis.models.graph import ReceptiveField, analyse_graph


class Strips(nn.Module):
    """1×7 then 1×7 with stride (1, 2), 7×1 "same", 3×3 "valid" with dilation
    (1, 2), a 2×1 average pool with stride (2, 1), a 1×1 conv."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(1, 1, (1, 7), padding=(0, 3), bias=False)
        self.b = nn.Conv2d(1, 1, (1, 7), stride=(1, 2), padding=(0, 3), bias=False)
        self.c = nn.Conv2d(1, 1, (7, 1), padding="same", bias=False)
        self.d = nn.Conv2d(1, 1, 3, padding="valid", dilation=(1, 2), bias=False)
        self.pool = nn.AvgPool2d((2, 1), stride=(2, 1))
        self.e = nn.Conv2d(1, 1, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.e(self.pool(self.d(self.c(self.b(self.a(x))))))


# By hand, per axis: size += (k_eff - 1) * jump; start += ((k_eff - 1) / 2 - pad_before) * jump; jump *= stride.
EXPECTED = {
    "a": ReceptiveField(size_x=7, size_y=1, jump_x=1, jump_y=1, start_x=0.5, start_y=0.5),
    "b": ReceptiveField(size_x=13, size_y=1, jump_x=2, jump_y=1, start_x=0.5, start_y=0.5),
    # "same" pads 3 before along y; x untouched.
    "c": ReceptiveField(size_x=13, size_y=7, jump_x=2, jump_y=1, start_x=0.5, start_y=0.5),
    # valid, dilation 2 along x: k_eff 5 -> size 13 + 4*2, start 0.5 + 2*2; y: k 3 -> 7 + 2, start 0.5 + 1.
    "d": ReceptiveField(size_x=21, size_y=9, jump_x=2, jump_y=1, start_x=4.5, start_y=1.5),
    # the pool, 2 along y with stride 2: size 10, start 1.5 + 0.5, jump 2.
    "e": ReceptiveField(size_x=21, size_y=10, jump_x=2, jump_y=2, start_x=4.5, start_y=2.0),
}


def test_strips_by_hand() -> None:
    fields = analyse_graph(Strips())
    for name, expected in EXPECTED.items():
        assert fields[name].receptive_field == expected, name
    assert fields["b"].receptive_field.size == 13  # the larger side


@pytest.mark.parametrize(("row", "col"), [(5, 8), (9, 12)])
def test_strips_field_is_the_gradients_support(row: int, col: int) -> None:
    """With positive weights, a cell's gradient on the input is non-zero exactly on its receptive field."""
    model = Strips()
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.constant_(module.weight, 1.0)
    x = torch.zeros(1, 1, 48, 64, requires_grad=True)
    out = model(x)
    (grad,) = torch.autograd.grad(out[0, 0, row, col], x)
    ys, xs = torch.nonzero(grad[0, 0], as_tuple=True)
    x0, y0, x1, y1 = EXPECTED["e"].box(row, col)
    assert (int(xs.min()), int(xs.max()) + 1) == (x0, x1)
    assert (int(ys.min()), int(ys.max()) + 1) == (y0, y1)


def test_inception_v3_has_non_square_fields() -> None:
    model = torchvision.models.get_model("inception_v3", weights=None, init_weights=False, aux_logits=False).eval()
    fields = {name: topo.receptive_field for name, topo in analyse_graph(model).items()}
    before, strip = fields["Mixed_6b.branch7x7_1.conv"], fields["Mixed_6b.branch7x7_2.conv"]  # 1×1, then 1×7
    assert before.size_x == before.size_y
    assert strip.size_x == before.size_x + 6 * before.jump_x and strip.size_y == before.size_y
    tall = fields["Mixed_6b.branch7x7_3.conv"]  # then 7×1
    assert tall.size_y == strip.size_y + 6 * strip.jump_y and tall.size_x == strip.size_x
    assert sum(f.size_x != f.size_y for f in fields.values()) >= 10


def test_receptive_fields_follow_the_network() -> None:
    import torchvision

    fields = analyse_graph(torchvision.models.resnet18())
    assert fields["conv1"].receptive_field.size == 7
    assert fields["layer1.0.conv1"].receptive_field.size == 19  # 7, maxpool -> 11, + 2*4
    assert fields["layer4.1.conv2"].receptive_field.size == 435  # the known ResNet18 value
    assert fields["layer4.1.conv2"].receptive_field.jump_x == fields["layer4.1.conv2"].receptive_field.jump_y == 32
    alex = analyse_graph(torchvision.models.alexnet())
    assert alex["features.0"].receptive_field.size == 11
    assert alex["features.10"].receptive_field.size == 163
