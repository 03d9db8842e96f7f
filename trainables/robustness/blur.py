"""The blur corruptions of CIFAR-10-C, with the severity constants of make_cifar_c.py (hendrycks/robustness,
ImageNet-C/create_c/make_cifar_c.py), vectorized over the batch. Each: (x (B, C, H, W) in [0, 1], severity, gen).
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import Tensor

from trainables.robustness.ops import (
    apply_rows_cols,
    clipped_zoom_matrix,
    filter2d,
    gaussian_filter,
    gaussian_filter_scipy_order,
    motion_blur_im,
    randint,
    to_uint8_grid,
    uniform,
)

GAUSSIAN_BLUR = (0.4, 0.6, 0.7, 0.8, 1.0)  # sigma, px (skimage gaussian: edges 'nearest', truncate 4)
GLASS_BLUR = ((0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2))  # (sigma px, max_delta, iterations)
DEFOCUS_BLUR = ((0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1))  # (disk radius px, anti-alias sigma px)
MOTION_BLUR = ((6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5))  # ImageMagick (radius, sigma) px; angle ~ U(-45, 45) deg
ZOOM_BLUR = (1.06, 1.11, 1.16, 1.21, 1.26)  # zoom factors np.arange(1, c, 0.01), averaged with the image


def gaussian_blur(x: Tensor, severity: int, gen: torch.Generator) -> Tensor:
    return gaussian_filter(x, GAUSSIAN_BLUR[severity - 1]).clamp(0, 1)


def glass_blur(x: Tensor, severity: int, gen: torch.Generator) -> Tensor:
    """Blur, truncate to uint8, locally scramble, blur again.

    The reference's pixel "swap" `x[h, w], x[h', w'] = x[h', w'], x[h, w]` assigns numpy views, so it copies
    x[h', w'] into x[h, w] and leaves x[h', w'] as it was. With offsets in randint(-1, 1) = {-1, 0} and h, w visited
    from the bottom-right, every source is still unvisited, so one pass is exactly the parallel gather below.
    """
    sigma, delta, iterations = GLASS_BLUR[severity - 1]
    assert delta == 1, "the parallel form needs offsets in {-1, 0}"
    # float64 and scipy's summation order: the truncation to uint8 turns any 1-ulp difference into a level
    x = torch.round(x.double() * 255) / 255
    x = torch.floor(gaussian_filter_scipy_order(x, sigma) * 255) / 255  # np.uint8(gaussian(x) * 255)
    b, c, h, w = x.shape
    rows = torch.arange(2, h, device=x.device).view(1, -1, 1)  # the reference visits h = H-1 .. 2, w = W-1 .. 2
    cols = torch.arange(2, w, device=x.device).view(1, 1, -1)
    for _ in range(iterations):
        dx, dy = randint(-delta, delta, (2, b, h - 2, w - 2), gen, x.device)
        src = ((rows + dy) * w + (cols + dx)).view(b, 1, -1).expand(b, c, -1)
        inner = x.reshape(b, c, h * w).gather(2, src).view(b, c, h - 2, w - 2)
        x = x.clone()
        x[:, :, 2:, 2:] = inner
    return gaussian_filter(x, sigma).clamp(0, 1).float()


@functools.lru_cache(maxsize=8)
def disk_kernel(radius: float, alias_blur: float) -> np.ndarray:
    """make_cifar_c's disk(): a normalized aliased disk on a 17x17 grid, smoothed by cv2.GaussianBlur(3x3,
    alias_blur), cropped to its non-zero support (the full grid is zero beyond radius + 1)."""
    assert radius <= 8, "the reference switches to a larger grid and a 5x5 blur beyond radius 8"
    span = np.arange(-8, 9)
    xx, yy = np.meshgrid(span, span)
    disk = (xx**2 + yy**2 <= radius**2).astype(np.float64)
    disk /= disk.sum()
    g = np.exp(-np.arange(-1, 2) ** 2 / (2 * alias_blur**2))  # cv2.getGaussianKernel(3, alias_blur)
    g /= g.sum()
    smooth = sum(g[a] * g[b] * np.roll(disk, (a - 1, b - 1), axis=(0, 1)) for a in range(3) for b in range(3))
    r = int(np.ceil(radius)) + 1
    return smooth[8 - r:9 + r, 8 - r:9 + r]


def defocus_blur(x: Tensor, severity: int, gen: torch.Generator) -> Tensor:
    kernel = disk_kernel(*DEFOCUS_BLUR[severity - 1])
    return filter2d(x, kernel, "mirror").clamp(0, 1)  # cv2.filter2D: correlation, BORDER_REFLECT_101


def motion_blur(x: Tensor, severity: int, gen: torch.Generator) -> Tensor:
    radius, sigma = MOTION_BLUR[severity - 1]
    angle = uniform((x.shape[0],), gen, torch.device("cpu"), -45.0, 45.0, dtype=torch.float64)
    return to_uint8_grid(motion_blur_im(x, radius, sigma, angle), rounding="round")  # written back as 8-bit PNG


def zoom_blur(x: Tensor, severity: int, gen: torch.Generator) -> Tensor:
    factors = np.arange(1, ZOOM_BLUR[severity - 1], 0.01)  # the reference's float64 steps, 1.0 included
    h, w = x.shape[-2:]
    zoomed = x.clone()
    for z in factors:  # a loop rather than one einsum: that would hold len(factors) copies of the batch
        zoomed += apply_rows_cols(x, clipped_zoom_matrix(h, z), clipped_zoom_matrix(w, z))
    return (zoomed / (len(factors) + 1)).clamp(0, 1)
