"""Fog, snow and brightness against numpy/scipy references of make_cifar_c.py, fed the same random draws."""

from __future__ import annotations

import pytest
import torch
from rob_reference import SEVERITIES, assert_matches, brightness, fog, hwc, seeded, snow

from trainables.robustness import corrupt
from trainables.robustness.weather import BRIGHTNESS, FOG, SNOW


def test_constants_are_cifar10c():
    assert FOG == ((0.2, 3), (0.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75))
    assert SNOW == ((0.1, 0.2, 1, 0.6, 8, 3, 0.95), (0.1, 0.2, 1, 0.5, 10, 4, 0.9), (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9),
                    (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85), (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8))
    assert BRIGHTNESS == (0.05, 0.1, 0.15, 0.2, 0.3)


@pytest.mark.parametrize("severity", [1, 3, 5])
def test_fog_is_the_plasma_fractal_haze(photos, severity):
    b = photos.shape[0]
    refs = []
    for i in range(b):
        gen = seeded()  # the batch draws each level's noise for all images at once; image i reads its slice

        def uniform(low, high, shape, gen=gen, i=i):
            return torch.rand((b, *shape), generator=gen, dtype=torch.float64)[i].numpy() * (high - low) + low

        refs.append(fog(hwc(photos[i]), *FOG[severity - 1], uniform))
    assert_matches(corrupt(photos, "fog", severity, seeded()), refs)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_snow_is_the_reference_snow(photos, severity):
    c = SNOW[severity - 1]
    b, _, h, w = photos.shape
    gen = seeded()
    flakes = torch.randn((b, 1, h, w), generator=gen, dtype=torch.float64) * c[1] + c[0]
    angles = torch.rand(b, generator=gen, dtype=torch.float64) * 90 - 135
    refs = [snow(hwc(photos[i]), c, flakes[i, 0].numpy(), angles[i].item()) for i in range(b)]
    assert_matches(corrupt(photos, "snow", severity, seeded()), refs)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_brightness_is_the_skimage_hsv_round_trip(photos, severity):
    x = torch.cat([photos, torch.zeros(1, 3, 32, 32), torch.full((1, 3, 32, 32), 128 / 255)])  # black and gray pixels
    refs = [brightness(hwc(i), BRIGHTNESS[severity - 1]) for i in x]
    assert_matches(corrupt(x, "brightness", severity, seeded()), refs)
