"""A three-conv net whose wiring is planted: filter ``PLANTED_FILTER`` of the
second conv reads only input channel ``PLANTED_INPUT``, and only filters
``PLANTED_READERS`` of the third conv read it."""

from __future__ import annotations

import torch
from torch import nn

from dashapp.analysis.models.registry import LoadedModel, WeightsStatus, describe

PLANTED_FILTER = 2
PLANTED_INPUT = 3
PLANTED_READERS = (1, 4)


class CircuitNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu1 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 6, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(6)
        self.relu2 = nn.ReLU()
        self.conv3 = nn.Conv2d(6, 5, 3, stride=2, padding=1)
        self.relu3 = nn.ReLU()
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(5, 4))
        generator = torch.Generator().manual_seed(7)
        with torch.no_grad():
            for module in self.modules():
                if isinstance(module, (nn.Conv2d, nn.Linear)):
                    module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * 0.3)
                    module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)
                if isinstance(module, nn.BatchNorm2d):
                    module.weight.copy_(torch.rand(module.weight.shape, generator=generator) + 0.5)
                    module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)
                    module.running_mean.copy_(torch.randn(module.running_mean.shape, generator=generator) * 0.1)
                    module.running_var.copy_(torch.rand(module.running_var.shape, generator=generator) + 0.5)
            kernel = self.conv2.weight[PLANTED_FILTER]
            kept = kernel[PLANTED_INPUT].abs() + 0.2  # positive: the filter fires where channel 3 does
            kernel.zero_()
            kernel[PLANTED_INPUT] = kept
            self.conv2.bias[PLANTED_FILTER] = 0.0
            for g in range(self.conv3.out_channels):
                if g not in PLANTED_READERS:
                    self.conv3.weight[g, PLANTED_FILTER] = 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.relu1(self.bn1(self.conv1(x))))
        x = self.relu2(self.bn2(self.conv2(x)))
        return self.head(self.relu3(self.conv3(x)))


def circuit_model() -> LoadedModel:
    return describe("circuitnet", CircuitNet(), ["a", "b", "c", "d"], WeightsStatus(pretrained=True),
                    torch.device("cpu"), input_size=32)
