"""The Fourier image and the robustness transforms, against Lucid's formulas."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dashapp.analysis.featurevis.imageparam import (
    COLOR_CORRELATION,
    PAD,
    FourierImage,
    Robustness,
    normalize,
    spectrum_scale,
    to_uint8,
)


def _lucid_rfft2d_freqs(h: int, w: int) -> np.ndarray:
    """Lucid's rfft2d_freqs (lucid/optvis/param/spatial.py), for even widths."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[: w // 2 + 1]
    return np.sqrt(fx * fx + fy * fy)


@pytest.mark.parametrize(("h", "w"), [(64, 64), (48, 80)])
def test_spectrum_scale_is_lucids(h: int, w: int) -> None:
    expected = 1.0 / np.maximum(_lucid_rfft2d_freqs(h, w), 1.0 / max(w, h))
    np.testing.assert_allclose(spectrum_scale(h, w).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(spectrum_scale(h, w, 0.0).numpy(), np.ones_like(expected))


def test_colour_matrix_is_lucids_normalized_square_root() -> None:
    lucid = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
    np.testing.assert_allclose(COLOR_CORRELATION.numpy(), lucid / np.linalg.norm(lucid, axis=0).max(), rtol=1e-6)


def test_fourier_image_is_valid_rgb_near_grey_at_start_and_seeded() -> None:
    first = FourierImage(2, 40, seed=5, decay_power=1.0, device=torch.device("cpu"))
    rgb = first.rgb().detach()
    assert rgb.shape == (2, 3, 40, 40)
    assert float(rgb.min()) >= 0 and float(rgb.max()) <= 1
    assert abs(float(rgb.mean()) - 0.5) < 0.05  # sd 0.01 spectra: a faint start
    again = FourierImage(2, 40, seed=5, decay_power=1.0, device=torch.device("cpu")).rgb().detach()
    assert torch.equal(rgb, again)


def test_a_single_frequency_parameter_makes_one_plane_wave() -> None:
    image = FourierImage(1, 32, seed=0, decay_power=1.0, device=torch.device("cpu"))
    with torch.no_grad():
        image.spectrum.zero_()
        image.spectrum[0, 0, 4, 0, 0] = 1.0  # luminance-like channel, vertical frequency 4/32
    grey = image.rgb().detach()[0].mean(dim=0).numpy()
    power = np.abs(np.fft.fft2(grey - grey.mean())) ** 2
    peak = np.unravel_index(power.argmax(), power.shape)
    assert peak in {(4, 0), (28, 0)}  # rows vary, columns do not: horizontal stripes


def test_robustness_transforms_are_seeded_and_vary_the_framing() -> None:
    images = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    assert torch.equal(Robustness(7)(images), Robustness(7)(images))
    transform = Robustness(3)
    sides = {transform(images).shape[-1] for _ in range(30)}
    # pad 12 each side (88), jitter 8 (80), scale 0.9–1.1 (72–88), jitter 4 (68–84)
    assert len(sides) > 2 and min(sides) >= 68 and max(sides) <= 84
    assert 64 + 2 * PAD - 8 - 4 in sides  # scale 1 occurs


def test_rotation_and_jitter_do_what_they_say() -> None:
    images = torch.zeros(1, 1, 21, 21)
    images[..., 10, :] = 1.0  # a horizontal line through the centre
    turned = Robustness.rotate(images, 90.0)[0, 0]
    assert float(turned[:, 10].mean()) > 0.9 and float(turned[10, :].mean()) < 0.2  # now vertical
    assert torch.equal(Robustness.rotate(images, 0.0), images)
    cropped = Robustness(0).jitter(images, 4)
    assert cropped.shape[-2:] == (17, 17)


def test_normalize_and_to_uint8_round_trip() -> None:
    images = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1).expand(1, 3, 2, 2)
    assert torch.allclose(normalize(images), torch.zeros(1, 3, 2, 2), atol=1e-6)
    out = to_uint8(torch.tensor([0.0, 0.5, 1.0]).view(1, 3, 1, 1))
    assert out.shape == (1, 1, 1, 3) and out.tolist() == [[[[0, 128, 255]]]]


def test_normalize_uses_the_models_own_mean_and_std() -> None:
    from dashapp.analysis.featurevis.imageparam import normalize

    images = torch.full((1, 3, 2, 2), 0.5)
    custom = normalize(images, (0.5, 0.25, 0.0), (0.5, 0.25, 2.0))
    torch.testing.assert_close(custom[0, :, 0, 0], torch.tensor([0.0, 1.0, 0.25]))
    imagenet = normalize(images)  # the default: ImageNet's, as capture.preprocess
    torch.testing.assert_close(imagenet[0, :, 0, 0], torch.tensor([(0.5 - 0.485) / 0.229, (0.5 - 0.456) / 0.224,
                                                                   (0.5 - 0.406) / 0.225]))
