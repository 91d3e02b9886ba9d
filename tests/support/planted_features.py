"""A tiny conv classifier with two known filters, for feature visualization.

Filter RED answers ``2R - G - B`` at its centre tap: a pure-red image is its
best input. Filter EDGE answers bright rows above dark rows in every channel:
horizontal stripes are its best input. A BatchNorm with identity statistics
sits between the conv and the ReLU, so the response is read where the app
reads it on real networks (the norm's output).
"""

from __future__ import annotations

import torch
from torch import nn

from dashapp.analysis.models.registry import LoadedModel, WeightsStatus, describe

RED, EDGE = 0, 1
CATEGORIES = ["red", "horizontal stripes"]


class FeatureNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, kernel_size=3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(2)
        self.relu = nn.ReLU(inplace=True)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2, 2)
        with torch.no_grad():
            w = torch.zeros(2, 3, 3, 3)
            w[RED, :, 1, 1] = torch.tensor([2.0, -1.0, -1.0])
            w[EDGE, :, 0, :], w[EDGE, :, 2, :] = 1.0, -1.0
            self.conv.weight.copy_(w)
            self.fc.weight.copy_(torch.eye(2))
            self.fc.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn(self.conv(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


def feature_model(name: str = "planted-features") -> LoadedModel:
    return describe(name, FeatureNet(), CATEGORIES, WeightsStatus(pretrained=True), torch.device("cpu"))
