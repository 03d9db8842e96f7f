"""The corruption table: CIFAR-10-C's corruptions under their dataset file names, each a pure batched function
(x (B, C, H, W) float in [0, 1], severity 1..5, generator) -> float32 (B, C, H, W) in [0, 1] on x's device.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from trainables.robustness import blur, digital, noise, weather

Corruption = Callable[[Tensor, int, torch.Generator], Tensor]

CORRUPTIONS: dict[str, Corruption] = {
    # the 15 of the CIFAR-10-C benchmark, in its order (frost and, below, spatter are not implemented)
    "gaussian_noise": noise.gaussian_noise,
    "shot_noise": noise.shot_noise,
    "impulse_noise": noise.impulse_noise,
    "defocus_blur": blur.defocus_blur,
    "glass_blur": blur.glass_blur,
    "motion_blur": blur.motion_blur,
    "zoom_blur": blur.zoom_blur,
    "snow": weather.snow,
    "fog": weather.fog,
    "brightness": weather.brightness,
    "contrast": digital.contrast,
    "elastic_transform": digital.elastic_transform,
    "pixelate": digital.pixelate,
    "jpeg_compression": digital.jpeg_compression,
    # the extra corruptions released with it
    "speckle_noise": noise.speckle_noise,
    "gaussian_blur": blur.gaussian_blur,
    "saturate": digital.saturate,
}
COLOR_ONLY = frozenset({"saturate"})  # an identity on 1-channel images: left out of their default set
SEVERITIES = (1, 2, 3, 4, 5)


def lookup(name: str) -> Corruption:
    try:
        return CORRUPTIONS[name]
    except KeyError:
        raise KeyError(f"unknown corruption {name!r}; valid names: {', '.join(CORRUPTIONS)}") from None


def applicable(in_chans: int) -> tuple[str, ...]:
    """Every corruption that changes a `in_chans`-channel image."""
    return tuple(n for n in CORRUPTIONS if in_chans == 3 or n not in COLOR_ONLY)


def corrupt(x: Tensor, name: str, severity: int, gen: torch.Generator) -> Tensor:
    """`name` at `severity` on a (B, C, H, W) batch in [0, 1]. Random draws come only from `gen`, on its device (a
    CPU generator gives the same images on CPU and CUDA); the same generator state gives the same output."""
    fn = lookup(name)
    if severity not in SEVERITIES:
        raise ValueError(f"`severity in {SEVERITIES}` must hold, but got {severity=}.")
    if x.dim() != 4:
        raise ValueError(f"expected a (B, C, H, W) batch, got shape {tuple(x.shape)}")
    return fn(x.float(), severity, gen)
