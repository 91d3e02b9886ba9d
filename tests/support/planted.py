"""A tiny conv classifier whose filters are known, and images made for it.

Filter 0 detects red, filter 1 (weakly) detects blue, filter 2 detects
horizontal edges. On a red square over a blue field, filter 0 is the
selective one and filter 1 responds over the whole background.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torch import nn

from dashapp.analysis.models.registry import LoadedModel, WeightsStatus, describe

CATEGORIES = ["red square", "blue field", "horizontal edge"]
RED, BLUE, EDGE = 0, 1, 2


class PlantedNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, kernel_size=3, padding=1)
        self.relu = nn.ReLU(inplace=True)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(3, 3)
        with torch.no_grad():
            w = torch.zeros(3, 3, 3, 3)
            w[RED, 0, 1, 1], w[RED, 2, 1, 1] = 1.0, -1.0  # +red -blue at the centre tap
            w[BLUE, 2, 1, 1], w[BLUE, 0, 1, 1] = 0.4, -0.4  # weaker blue detector
            w[EDGE, :, 0, :], w[EDGE, :, 2, :] = 1.0, -1.0  # bright above, dark below
            self.conv.weight.copy_(w)
            self.conv.bias.zero_()
            self.fc.weight.copy_(torch.eye(3))
            self.fc.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.conv(x))
        return self.fc(torch.flatten(self.pool(x), 1))


def planted_model(name: str = "planted") -> LoadedModel:
    return describe(name, PlantedNet(), CATEGORIES, WeightsStatus(pretrained=True), torch.device("cpu"))


def red_square_image(
    width: int = 300, height: int = 200, box: tuple[int, int, int, int] = (60, 40, 180, 160)
) -> Image.Image:
    """A blue field with a red rectangle at ``box`` = (x0, y0, x1, y1), x1/y1 exclusive."""
    array = np.zeros((height, width, 3), dtype=np.uint8)
    array[..., 2] = 255
    x0, y0, x1, y1 = box
    array[y0:y1, x0:x1] = (255, 0, 0)
    return Image.fromarray(array)
