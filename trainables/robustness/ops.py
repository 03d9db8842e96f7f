"""Building blocks shared by the corruptions: edge handling by index, filtering as small matmuls, bilinear
sampling, scipy's `zoom` as a matrix, ImageMagick's motion blur, and random draws from the caller's generator.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
from torch import Tensor

# Edge modes, named as scipy.ndimage names them:
#   nearest  aaaa|abcd|dddd   (skimage.filters.gaussian's default; ImageMagick's "edge" virtual pixels)
#   reflect  dcba|abcd|dcba   (scipy 'reflect', half-sample symmetric)
#   mirror   dcb|abcd|cba     (scipy 'mirror' = OpenCV BORDER_REFLECT_101, cv2's default border)
MODES = ("nearest", "reflect", "mirror")


def edge_index(idx: Tensor, n: int, mode: str) -> Tensor:
    """Map integer positions (any range) into 0..n-1 the way `mode` extends a length-n signal."""
    if mode == "nearest" or n == 1:
        return idx.clamp(0, n - 1)
    if mode == "reflect":
        idx = idx % (2 * n)
        return torch.where(idx >= n, 2 * n - 1 - idx, idx)
    if mode == "mirror":
        idx = idx % (2 * n - 2)
        return torch.where(idx >= n, 2 * n - 2 - idx, idx)
    raise KeyError(f"unknown edge mode {mode!r}; valid modes: {', '.join(MODES)}")


def gaussian_taps(sigma: float, truncate: float) -> np.ndarray:
    """scipy.ndimage.gaussian_filter1d's kernel: radius int(truncate*sigma + 0.5), normalized exp(-x^2/2sigma^2)."""
    radius = int(truncate * sigma + 0.5)
    if sigma <= 0 or radius == 0:
        return np.ones(1)
    x = np.arange(-radius, radius + 1)
    taps = np.exp(-0.5 / (sigma * sigma) * x**2)
    return taps / taps.sum()


@functools.lru_cache(maxsize=256)
def _band(n: int, taps: tuple[float, ...], mode: str) -> np.ndarray:
    r = len(taps) // 2
    a = np.zeros((n, n))
    rows = np.arange(n)
    for t, weight in enumerate(taps):
        cols = edge_index(torch.arange(-r + t, n - r + t), n, mode).numpy()
        np.add.at(a, (rows, cols), weight)
    return a


def band_matrix(n: int, taps: np.ndarray, mode: str) -> np.ndarray:
    """(n, n) matrix A with A @ v == the correlation of v with the odd-length `taps`, edges extended by `mode`:
    filtering as a small matmul, which on CPU beats conv2d on (B*C, 1, H, W) several times over."""
    return _band(n, tuple(float(t) for t in taps), mode)


def apply_rows_cols(x: Tensor, rows: np.ndarray, cols: np.ndarray) -> Tensor:
    """rows @ x @ cols.T on every (H, W) plane of (B, C, H, W): a separable linear map."""
    r = torch.as_tensor(rows, dtype=x.dtype, device=x.device)
    c = torch.as_tensor(cols, dtype=x.dtype, device=x.device)
    return (r @ x) @ c.T


def gaussian_filter(x: Tensor, sigma: float, *, mode: str = "nearest", truncate: float = 4.0) -> Tensor:
    """scipy.ndimage.gaussian_filter over H and W only (what skimage's gaussian(multichannel=True) calls)."""
    taps = gaussian_taps(sigma, truncate)
    if len(taps) == 1:
        return x
    h, w = x.shape[-2:]
    return apply_rows_cols(x, band_matrix(h, taps, mode), band_matrix(w, taps, mode))


def gaussian_filter_scipy_order(x: Tensor, sigma: float, *, mode: str = "nearest", truncate: float = 4.0) -> Tensor:
    """gaussian_filter summed in scipy's order (centre, then symmetric pairs from the outside in; H, then W): in
    float64 it matches scipy bit for bit, which matters where the result is truncated to uint8 next."""
    taps = gaussian_taps(sigma, truncate)
    r = len(taps) // 2
    for dim in (2, 3):
        n = x.shape[dim]
        padded = x.index_select(dim, edge_index(torch.arange(-r, n + r, device=x.device), n, mode))
        out = padded.narrow(dim, r, n) * float(taps[r])
        for j in range(r, 0, -1):
            out = out + (padded.narrow(dim, r - j, n) + padded.narrow(dim, r + j, n)) * float(taps[r - j])
        x = out
    return x


def filter2d(x: Tensor, kernel: np.ndarray, mode: str) -> Tensor:
    """Correlate every channel of (B, C, H, W) with the odd-sized 2-D `kernel` (cv2.filter2D), edges by `mode`,
    as a sum of separable passes from the kernel's SVD (rank 1 or 2 for the defocus disks)."""
    h, w = x.shape[-2:]
    u, s, vt = np.linalg.svd(kernel)
    out = torch.zeros_like(x)
    for i in np.flatnonzero(s > 1e-12 * s[0]):
        out += apply_rows_cols(x, band_matrix(h, u[:, i] * s[i], mode), band_matrix(w, vt[i], mode))
    return out


def bilinear(x: Tensor, rows: Tensor, cols: Tensor, mode: str) -> Tensor:
    """(B, C, H, W) sampled at float coordinates rows, cols (B, h, w) by linear interpolation, edges by `mode`
    (scipy.ndimage.map_coordinates(order=1) and cv2.remap(INTER_LINEAR) both interpolate this way)."""
    b, c, h, w = x.shape
    r0, c0 = rows.floor(), cols.floor()
    fr, fc = (rows - r0).unsqueeze(1), (cols - c0).unsqueeze(1)
    r0, c0 = r0.long(), c0.long()
    r_idx = [edge_index(r0, h, mode) * w, edge_index(r0 + 1, h, mode) * w]
    c_idx = [edge_index(c0, w, mode), edge_index(c0 + 1, w, mode)]
    flat = x.reshape(b, c, h * w)

    def at(i: int, j: int) -> Tensor:
        idx = (r_idx[i] + c_idx[j]).reshape(b, 1, -1).expand(b, c, -1)
        return flat.gather(2, idx).view(b, c, *rows.shape[1:])

    top = torch.lerp(at(0, 0), at(0, 1), fc)
    bottom = torch.lerp(at(1, 0), at(1, 1), fc)
    return torch.lerp(top, bottom, fr)


@functools.lru_cache(maxsize=64)
def clipped_zoom_matrix(n: int, factor: float) -> np.ndarray:
    """(n, n) matrix A with A @ v == make_cifar_c's clipped_zoom of v along one axis: the centred ceil(n/factor)
    crop, scipy.ndimage.zoom(order=1) to round(crop*factor) samples (align-corners grid), centre-trimmed to n."""
    crop = int(np.ceil(n / factor))
    top = (n - crop) // 2
    out = int(round(crop * factor))
    trim = (out - n) // 2
    step = (crop - 1) / (out - 1) if out > 1 else 0.0  # scipy: (in - 1) / (out - 1) when grid_mode=False
    a = np.zeros((n, n))
    for p in range(n):
        pos = min((p + trim) * step, crop - 1.0)
        i = int(np.floor(pos))
        frac = pos - i
        a[p, top + i] += 1 - frac
        if frac > 0:
            a[p, top + i + 1] += frac
    return a


def clipped_zoom(x: Tensor, factor: float) -> Tensor:
    h, w = x.shape[-2:]
    return apply_rows_cols(x, clipped_zoom_matrix(h, factor), clipped_zoom_matrix(w, factor))


def motion_blur_im(x: Tensor, radius: float, sigma: float, angle_deg: Tensor) -> Tensor:
    """ImageMagick's MotionBlurImage (6.8+): a one-sided half-Gaussian of 2*ceil(radius)+1 taps along each image's
    `angle_deg` (B,), taps at rounded offsets, edge pixels repeated. Output is not requantized here."""
    b, c, h, w = x.shape
    width = 2 * math.ceil(radius) + 1
    i = torch.arange(width, dtype=torch.float64)
    kernel = torch.exp(-(i * i) / (2 * sigma * sigma))
    kernel = (kernel / kernel.sum()).tolist()
    theta = angle_deg.double().cpu() * (math.pi / 180)
    px, py = width * torch.sin(theta), width * torch.cos(theta)
    norm = torch.hypot(px, py)
    # IM: offset.x = ceil(i*point.y/hypot - 0.5), offset.y = ceil(i*point.x/hypot - 0.5); y runs down the rows
    dx = torch.ceil(i[None] * py[:, None] / norm[:, None] - 0.5).long().to(x.device)  # (B, width)
    dy = torch.ceil(i[None] * px[:, None] / norm[:, None] - 0.5).long().to(x.device)
    ys, xs = torch.arange(h, device=x.device), torch.arange(w, device=x.device)
    out = torch.zeros_like(x)
    for t in range(width):
        rows = (ys[None] + dy[:, t:t + 1]).clamp(0, h - 1)  # (B, H)
        cols = (xs[None] + dx[:, t:t + 1]).clamp(0, w - 1)
        shifted = x.gather(2, rows[:, None, :, None].expand(b, c, h, w))
        out += kernel[t] * shifted.gather(3, cols[:, None, None, :].expand(b, c, h, w))
    return out


def to_uint8_grid(x: Tensor, *, rounding: str) -> Tensor:
    """x in [0, 1] snapped to k/255 the way the reference pipeline stores uint8: 'floor' as np.uint8(x*255)
    truncates, 'round' as an 8-bit PNG/JPEG write does."""
    y = x.clamp(0, 1) * 255
    # 1e-4 keeps k/255 (which float32 may hold as k - 3e-5 after * 255) on level k when truncating
    y = torch.floor(y + 1e-4) if rounding == "floor" else torch.round(y)
    return y / 255


# Draws happen on the generator's device and are then moved to the image's device: a CPU generator gives the same
# corrupted images on CPU and CUDA; a CUDA generator avoids the copy.
def uniform(shape: tuple[int, ...], gen: torch.Generator, device: torch.device, low: float = 0.0,
            high: float = 1.0, dtype: torch.dtype = torch.float32) -> Tensor:
    u = torch.rand(shape, generator=gen, device=gen.device, dtype=dtype)
    return (u * (high - low) + low).to(device)


def normal(shape: tuple[int, ...], gen: torch.Generator, device: torch.device, loc: float = 0.0, scale: float = 1.0,
           dtype: torch.dtype = torch.float32) -> Tensor:
    return (torch.randn(shape, generator=gen, device=gen.device, dtype=dtype) * scale + loc).to(device)


def randint(low: int, high: int, shape: tuple[int, ...], gen: torch.Generator, device: torch.device) -> Tensor:
    return torch.randint(low, high, shape, generator=gen, device=gen.device).to(device)
