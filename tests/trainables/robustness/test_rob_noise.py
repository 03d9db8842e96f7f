"""Noise corruptions: make_cifar_c.py's formulas fed the same draws, Poisson statistics for shot noise, and the
CIFAR-10-C constants pinned."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainables.robustness import corrupt
from trainables.robustness.noise import GAUSSIAN_NOISE, IMPULSE_NOISE, SHOT_NOISE, SPECKLE_NOISE

SEED = 7


def _gen() -> torch.Generator:
    return torch.Generator().manual_seed(SEED)


def test_constants_are_cifar10c():
    assert GAUSSIAN_NOISE == (0.04, 0.06, 0.08, 0.09, 0.10)
    assert SHOT_NOISE == (500, 250, 100, 75, 50)
    assert IMPULSE_NOISE == (0.01, 0.02, 0.03, 0.05, 0.07)
    assert SPECKLE_NOISE == (0.06, 0.10, 0.12, 0.16, 0.20)


@pytest.mark.parametrize("severity", [1, 5])
def test_gaussian_and_speckle_noise_match_reference_with_the_same_draws(photos, severity):
    x = photos.double().numpy()
    z = torch.randn(photos.shape, generator=_gen()).double().numpy()  # np.random.normal(scale=c) == c * N(0, 1)
    additive = np.clip(x + z * GAUSSIAN_NOISE[severity - 1], 0, 1)
    multiplicative = np.clip(x + x * z * SPECKLE_NOISE[severity - 1], 0, 1)
    np.testing.assert_allclose(corrupt(photos, "gaussian_noise", severity, _gen()).numpy(), additive, atol=1e-6)
    np.testing.assert_allclose(corrupt(photos, "speckle_noise", severity, _gen()).numpy(), multiplicative, atol=1e-6)


@pytest.mark.parametrize("severity", [1, 4])
def test_impulse_noise_matches_skimage_salt_and_pepper(photos, severity):
    amount = IMPULSE_NOISE[severity - 1]
    u = torch.rand((2, *photos.shape), generator=_gen()).numpy()
    flipped, salted = u[0] <= amount, u[1] <= 0.5  # skimage: rng.random(shape) <= p, for each of the two masks
    ref = photos.numpy().copy()
    ref[flipped & salted], ref[flipped & ~salted] = 1.0, 0.0
    out = corrupt(photos, "impulse_noise", severity, _gen())
    np.testing.assert_array_equal(out.numpy(), ref)
    assert abs(flipped.mean() - amount) < 0.25 * amount + 0.005


@pytest.mark.parametrize("severity", [1, 5])
def test_shot_noise_matches_numpy_poisson_statistics(severity):
    c = SHOT_NOISE[severity - 1]
    x = torch.linspace(0.05, 0.95, 19).view(1, 1, 19, 1).expand(400, 1, 19, 8)  # 3200 draws per level
    ours = corrupt(x, "shot_noise", severity, _gen()) - x
    ref = np.clip(np.random.default_rng(0).poisson(x.numpy() * c) / c, 0, 1) - x.numpy()
    per_level = lambda d: (d.mean(axis=(0, 1, 3)), d.std(axis=(0, 1, 3)))  # noqa: E731
    (m_ours, s_ours), (m_ref, s_ref) = per_level(ours.numpy()), per_level(ref)
    np.testing.assert_allclose(s_ours, s_ref, rtol=0.08)
    unclipped = slice(0, 14)  # levels <= 0.75: clipping at 1 leaves the Poisson variance x / c intact
    np.testing.assert_allclose(s_ours[unclipped], np.sqrt(x[0, 0, unclipped, 0].numpy() / c), rtol=0.08)
    n = ours[:, :, 0, :].numel()
    assert np.all(np.abs(m_ours - m_ref) < 5 * np.sqrt(2 * x[0, 0, :, 0].numpy() / (c * n)))  # 5 sigma of the gap
