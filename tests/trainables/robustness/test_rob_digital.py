"""Contrast, saturate, pixelate, JPEG and elastic against references of make_cifar_c.py (PIL itself where the
original uses PIL), fed the same random draws."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image
from rob_reference import (
    SEVERITIES,
    assert_matches,
    contrast,
    elastic_transform,
    hwc,
    jpeg_compression,
    pixelate,
    saturate,
    seeded,
)

from trainables.robustness import corrupt
from trainables.robustness.digital import CONTRAST, ELASTIC, JPEG_QUALITY, PIXELATE, SATURATE


def test_constants_are_cifar10c():
    assert CONTRAST == (0.75, 0.5, 0.4, 0.3, 0.15)
    assert SATURATE == ((0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2))
    assert JPEG_QUALITY == (80, 65, 58, 50, 40)
    assert PIXELATE == (0.95, 0.9, 0.85, 0.75, 0.65)
    assert ELASTIC == ((0, 0, 0.08), (0.05, 0.2, 0.07), (0.08, 0.06, 0.06), (0.1, 0.04, 0.05), (0.1, 0.03, 0.03))


@pytest.mark.parametrize("severity", SEVERITIES)
def test_contrast_and_saturate_match_reference(photos, severity):
    x = torch.cat([photos, torch.full((1, 3, 32, 32), 128 / 255)])  # a gray image: skimage gives it hue 0 (red)
    assert_matches(corrupt(x, "contrast", severity, seeded()), [contrast(hwc(i), CONTRAST[severity - 1]) for i in x])
    assert_matches(corrupt(x, "saturate", severity, seeded()), [saturate(hwc(i), SATURATE[severity - 1]) for i in x])


@pytest.mark.parametrize("severity", SEVERITIES)
def test_pixelate_and_jpeg_equal_pil(photos, severity):
    assert_matches(corrupt(photos, "pixelate", severity, seeded()), [pixelate(hwc(i), PIXELATE[severity - 1]) for i in photos])
    assert_matches(corrupt(photos, "jpeg_compression", severity, seeded()),
           [jpeg_compression(hwc(i), JPEG_QUALITY[severity - 1]) for i in photos])


@pytest.mark.parametrize("name", ["pixelate", "jpeg_compression"])
def test_pil_corruptions_on_grayscale_28x28(photos, name):
    gray = photos[:, :1, 2:30, 2:30]
    out = corrupt(gray, name, 5, seeded())
    for x, y in zip(gray, out):
        img = Image.fromarray(np.uint8(np.round(x[0].numpy() * 255)), mode="L")
        if name == "pixelate":
            ref = img.resize((int(28 * 0.65),) * 2, Image.BOX).resize((28, 28), Image.BOX)
        else:
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=40)
            ref = Image.open(buf)
        np.testing.assert_array_equal(np.round(y[0].numpy() * 255), np.asarray(ref))


@pytest.mark.parametrize("severity", SEVERITIES)
def test_elastic_is_affine_then_map_coordinates(photos, severity):
    b, _, h, w = photos.shape
    c = tuple(32 * f for f in ELASTIC[severity - 1])
    gen = seeded()
    jitter = torch.rand((b, 3, 2), generator=gen, dtype=torch.float64) * (2 * c[2]) - c[2]
    noise = torch.rand((2, b, 1, h, w), generator=gen, dtype=torch.float64) * 2 - 1
    refs = [elastic_transform(hwc(photos[i]), c, jitter[i].numpy(), noise[0, i, 0].numpy(), noise[1, i, 0].numpy())
            for i in range(b)]
    assert_matches(corrupt(photos, "elastic_transform", severity, seeded()), refs, atol=2e-6)
