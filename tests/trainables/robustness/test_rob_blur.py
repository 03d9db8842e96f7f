"""Blur corruptions against numpy/scipy references of make_cifar_c.py, fed the same random draws."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rob_reference import (
    SEVERITIES,
    assert_matches,
    defocus_blur,
    gaussian,
    glass_blur,
    hwc,
    imagemagick_motion_blur,
    seeded,
    zoom_blur,
)

from trainables.robustness import corrupt
from trainables.robustness.blur import DEFOCUS_BLUR, GAUSSIAN_BLUR, GLASS_BLUR, MOTION_BLUR, ZOOM_BLUR


def test_constants_are_cifar10c():
    assert GAUSSIAN_BLUR == (0.4, 0.6, 0.7, 0.8, 1.0)
    assert GLASS_BLUR == ((0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2))
    assert DEFOCUS_BLUR == ((0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1))
    assert MOTION_BLUR == ((6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5))
    assert ZOOM_BLUR == (1.06, 1.11, 1.16, 1.21, 1.26)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_gaussian_blur_is_skimage_gaussian(photos, severity):
    refs = [np.clip(gaussian(hwc(x), GAUSSIAN_BLUR[severity - 1]), 0, 1) for x in photos]
    assert_matches(corrupt(photos, "gaussian_blur", severity, seeded()), refs)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_defocus_blur_is_cv2_disk_filter(photos, severity):
    refs = [defocus_blur(hwc(x), *DEFOCUS_BLUR[severity - 1]) for x in photos]
    assert_matches(corrupt(photos, "defocus_blur", severity, seeded()), refs)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_zoom_blur_is_scipy_clipped_zoom(photos, severity):
    refs = [zoom_blur(hwc(x), ZOOM_BLUR[severity - 1]) for x in photos]
    assert_matches(corrupt(photos, "zoom_blur", severity, seeded()), refs)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_glass_blur_is_the_sequential_pixel_loop(photos, severity):
    """Bit-exact with the original loop (including its uint8 truncation), given the same offsets."""
    sigma, _, iterations = GLASS_BLUR[severity - 1]
    b, _, h, w = photos.shape
    gen = seeded()
    draws = torch.stack([torch.randint(-1, 1, (2, b, h - 2, w - 2), generator=gen) for _ in range(iterations)])
    refs = []
    for i in range(b):
        dx, dy = np.zeros((2, iterations, h, w), dtype=int)
        dx[:, 2:, 2:], dy[:, 2:, 2:] = draws[:, 0, i].numpy(), draws[:, 1, i].numpy()
        refs.append(glass_blur(hwc(photos[i]), sigma, iterations, dx, dy))
    assert_matches(corrupt(photos, "glass_blur", severity, seeded()), refs)


@pytest.mark.parametrize("severity", [1, 3, 5])
def test_motion_blur_is_imagemagick_motion_blur(photos, severity):
    angles = torch.rand(photos.shape[0], generator=seeded(), dtype=torch.float64) * 90 - 45
    refs = [imagemagick_motion_blur(hwc(x), *MOTION_BLUR[severity - 1], a.item()) for x, a in zip(photos, angles)]
    assert_matches(corrupt(photos, "motion_blur", severity, seeded()), refs)


def test_motion_blur_severities_3_and_4_nearly_coincide(photos):
    """(radius 6, sigma 2) vs (8, 2): the extra taps weigh < 1e-9, a property of the CIFAR-10-C constants."""
    third, fourth = (corrupt(photos, "motion_blur", s, seeded()) for s in (3, 4))
    assert (third - fourth).abs().max() <= 1 / 255 + 1e-6
