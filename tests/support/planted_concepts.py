"""A tiny classifier whose "red square" logit reads one "red square" channel,
and concept images made for it (TCAV tests and benchmark).

    green (1x1 conv + ReLU): the green channel only, before any red detector;
        red squares and noise have the same green noise, so it cannot tell them apart
    red (5x5 conv + ReLU): channel 0 fires on a red patch (R - B high over the whole
        window), channel 1 on a blue patch; noise never fills a window
    head (1x1 conv + ReLU): channel 0 = red (the "red square" logit's only input),
        channel 1 = blue + green (the other classes')
    logits = the head's channel means: "red square", "other", and a constant class.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torch import nn

from dashapp.analysis.models.registry import LoadedModel, WeightsStatus, describe

CATEGORIES = ["red square", "other", "constant"]
RED_CLASS = 0
SIZE = 32


class ConceptNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.green = nn.Conv2d(3, 2, kernel_size=1)
        self.green_relu = nn.ReLU()  # not in place: Captum hooks this module's output
        self.red = nn.Conv2d(3, 2, kernel_size=5, padding=2)
        self.red_relu = nn.ReLU()
        self.head = nn.Conv2d(4, 2, kernel_size=1)
        self.head_relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2, 3)
        with torch.no_grad():
            self.green.weight.zero_()
            self.green.weight[0, 1] = 1.0
            self.green.weight[1, 1] = -1.0
            self.green.bias.copy_(torch.tensor([0.0, 1.0]))
            window = 1.0 / 25
            self.red.weight.zero_()
            self.red.weight[0, 0], self.red.weight[0, 2] = window, -window  # mean(R - B) over the window
            self.red.weight[1, 2], self.red.weight[1, 0] = window, -window
            self.red.bias.fill_(-0.8)
            self.head.weight.zero_()
            self.head.weight[0, 0] = 1.0  # red
            self.head.weight[1, 1], self.head.weight[1, 2] = 1.0, 0.5  # blue, green
            self.head.bias.zero_()
            self.fc.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))
            self.fc.bias.copy_(torch.tensor([0.0, 0.0, 1.0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        green = self.green_relu(self.green(x))
        red = self.red_relu(self.red(x))
        head = self.head_relu(self.head(torch.cat([red, green], dim=1)))
        return self.fc(torch.flatten(self.pool(head), 1))


def concept_model(name: str = "concepts") -> LoadedModel:
    """Inputs in [0, 1] (mean 0, std 1), 32 x 32."""
    return describe(name, ConceptNet(), CATEGORIES, WeightsStatus(pretrained=True), torch.device("cpu"),
                    input_size=SIZE, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))


def noise(seed: int) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8))


def square(seed: int, colour: str) -> Image.Image:
    """Noise with a red (R=255, B=0) or blue square of 12-20 pixels; green stays noise."""
    rng = np.random.default_rng(seed)
    array = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    side = int(rng.integers(12, 21))
    x, y = (int(v) for v in rng.integers(0, SIZE - side + 1, 2))
    on, off = (0, 2) if colour == "red" else (2, 0)
    array[y:y + side, x:x + side, on] = 255
    array[y:y + side, x:x + side, off] = 0
    return Image.fromarray(array)


def images(kind: str, count: int, offset: int = 0) -> list[Image.Image]:
    """``kind`` in noise, red, blue; distinct seeds per kind and offset."""
    base = {"noise": 0, "red": 100_000, "blue": 200_000}[kind] + offset
    return [noise(base + i) if kind == "noise" else square(base + i, kind) for i in range(count)]
