"""The noise corruptions of CIFAR-10-C, with the severity constants of Hendrycks & Dietterich's make_cifar_c.py
(hendrycks/robustness, ImageNet-C/create_c/make_cifar_c.py). Each: (x (B, C, H, W) in [0, 1], severity, gen).
"""

from __future__ import annotations

import torch
from torch import Tensor

from trainables.robustness.ops import normal, uniform

GAUSSIAN_NOISE = (0.04, 0.06, 0.08, 0.09, 0.10)  # std of the added noise, in [0, 1] units
SHOT_NOISE = (500, 250, 100, 75, 50)  # photons at full intensity: x ~ Poisson(x * c) / c
IMPULSE_NOISE = (0.01, 0.02, 0.03, 0.05, 0.07)  # fraction of values set to 0 or 1 (salt:pepper 1:1)
SPECKLE_NOISE = (0.06, 0.10, 0.12, 0.16, 0.20)  # std of the multiplicative noise


def gaussian_noise(x: Tensor, severity: int, gen: torch.Generator) -> Tensor:
    c = GAUSSIAN_NOISE[severity - 1]
    return (x + normal(x.shape, gen, x.device, scale=c)).clamp(0, 1)


def shot_noise(x: Tensor, severity: int, gen: torch.Generator) -> Tensor:
    c = SHOT_NOISE[severity - 1]
    counts = torch.poisson((x.float() * c).to(gen.device), generator=gen).to(x.device)
    return (counts / c).clamp(0, 1)


def impulse_noise(x: Tensor, severity: int, gen: torch.Generator) -> Tensor:
    """skimage.util.random_noise(mode='s&p'): each value independently flipped with probability `amount`, a
    flipped value becoming 1 or 0 with probability 1/2 each."""
    amount = IMPULSE_NOISE[severity - 1]
    u = uniform((2, *x.shape), gen, x.device)
    flipped, salted = u[0] <= amount, u[1] <= 0.5
    return torch.where(flipped, salted.to(x.dtype), x)


def speckle_noise(x: Tensor, severity: int, gen: torch.Generator) -> Tensor:
    c = SPECKLE_NOISE[severity - 1]
    return (x + x * normal(x.shape, gen, x.device, scale=c)).clamp(0, 1)
