"""Preprocessing follows the model: its input size and its normalization."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from PIL import Image

from dashapp.analysis.capture import model_input, preprocess

from ...support.planted import planted_model


def test_preprocess_normalizes_with_the_given_mean_and_std() -> None:
    image = Image.new("RGB", (10, 6), (255, 51, 0))
    batch = preprocess(image, 8, mean=(0.5, 0.25, 0.0), std=(0.5, 0.25, 2.0))
    assert batch.shape == (1, 3, 8, 8)
    # (x / 255 - mean) / std per channel: (1 - 0.5) / 0.5, (0.2 - 0.25) / 0.25, (0 - 0) / 2.
    expected = torch.tensor([1.0, -0.2, 0.0]).view(1, 3, 1, 1).expand(1, 3, 8, 8)
    torch.testing.assert_close(batch, expected, atol=1e-6, rtol=0)


def test_a_model_gets_its_own_normalization_and_size() -> None:
    loaded = dataclasses.replace(planted_model(), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), input_size=16)
    image = Image.new("RGB", (4, 4), (255, 0, 255))
    batch = model_input(loaded, image)
    assert batch.shape == (1, 3, 16, 16)
    np.testing.assert_allclose(batch[0, :, 0, 0].numpy(), [1.0, 0.0, 1.0])
    imagenet = model_input(planted_model(), image)
    assert not torch.equal(imagenet[:, :, :1, :1], batch[:, :, :1, :1])
