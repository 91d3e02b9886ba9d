"""The sanity check's SSIM is Wang et al.'s as scikit-image computes it: the
mean over the windows that lie wholly inside the map, with an 11 x 11
Gaussian window (sigma 1.5) or, on a smaller map, the largest odd window that
fits with sigma scaled to it."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from dashapp.analysis.attribution.sanity import ssim, ssim_window


def reference(a: np.ndarray, b: np.ndarray) -> float:
    side, sigma = ssim_window(a.shape) or (0, 0.0)
    value = structural_similarity(a, b, data_range=1.0, gaussian_weights=True, sigma=sigma,
                                  use_sample_covariance=False)
    # scikit-image derives its window from sigma (radius = int(3.5 sigma + 0.5)): the one ssim states.
    assert 2 * int(3.5 * sigma + 0.5) + 1 == side
    return float(value)


def maps(shape: tuple[int, int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.random(shape)
    smooth = np.cumsum(np.cumsum(rng.random(shape), 0), 1)
    b = np.clip(0.6 * a + 0.4 * smooth / smooth.max(), 0, 1)
    return a, b


@pytest.mark.parametrize("shape", [(56, 56), (28, 28), (14, 14), (13, 13), (11, 11), (7, 7), (6, 6), (3, 3),
                                   (13, 20), (9, 4)])
def test_equals_scikit_images_structural_similarity(shape: tuple[int, int]) -> None:
    for seed in range(3):
        a, b = maps(shape, seed)
        assert ssim(a, b) == pytest.approx(reference(a, b), abs=1e-6)
        assert ssim(a, a) == pytest.approx(1.0, abs=1e-12)


def test_the_window_is_wang_et_als_where_it_fits_and_smaller_below() -> None:
    assert ssim_window((224, 224)) == (11, 1.5) and ssim_window((11, 40)) == (11, 1.5)
    assert ssim_window((14, 14)) == (11, 1.5)
    assert ssim_window((7, 7)) == (7, pytest.approx(0.9))  # ResNet18's layer4 at 224 px
    assert ssim_window((6, 6)) == (5, pytest.approx(0.6))  # even sides: the largest odd window inside
    assert ssim_window((2, 9)) is None
    assert ssim(np.zeros((2, 2)), np.ones((2, 2))) is None


def test_only_whole_windows_count_on_a_13_pixel_map() -> None:
    # A map whose border differs: the padded all-pixel mean counted reflected
    # border windows; the valid mean sees only the 3 x 3 window centres.
    a, b = maps((13, 13), 7)
    b[:, :2] = 1 - b[:, :2]
    assert ssim(a, b) == pytest.approx(reference(a, b), abs=1e-6)
