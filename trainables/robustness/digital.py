"""The digital corruptions of CIFAR-10-C (contrast, elastic, pixelate, JPEG) and the extra `saturate` (spatter is not
included: it needs OpenCV's Canny and distance transform), with the severity constants of make_cifar_c.py.
"""

from __future__ import annotations

import functools
import io

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from trainables.robustness.ops import bilinear, gaussian_filter, uniform

CONTRAST = (0.75, 0.5, 0.4, 0.3, 0.15)  # factor on the deviation from each channel's mean
SATURATE = ((0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2))  # HSV saturation -> clip(s * a + b, 0, 1)
JPEG_QUALITY = (80, 65, 58, 50, 40)  # PIL quality
PIXELATE = (0.95, 0.9, 0.85, 0.75, 0.65)  # PIL BOX down to int(size * c) and back up
ELASTIC = (  # fractions of the image size (IMSIZE = 32): (displacement scale, displacement sigma, affine jitter)
    (0, 0, 0.08), (0.05, 0.2, 0.07), (0.08, 0.06, 0.06), (0.1, 0.04, 0.05), (0.1, 0.03, 0.03),
)
PIL_PRECISION_BITS = 22  # Pillow's 8-bit resampling: 32 - 8 - 2 fractional bits in its fixed-point coefficients


def contrast(x: Tensor, severity: int, gen: torch.Generator) -> Tensor:
    means = x.mean(dim=(2, 3), keepdim=True)
    return ((x - means) * CONTRAST[severity - 1] + means).clamp(0, 1)


def saturate(x: Tensor, severity: int, gen: torch.Generator) -> Tensor:
    """skimage HSV round trip with S -> clip(S*a + b): each channel is V - V*S*g(hue), so it becomes V - V*S'*g.
    Gray pixels have hue 0 (red) in skimage, so where b > 0 they turn reddish, as in CIFAR-10-C. Identity unless
    C == 3 (no hue to keep)."""
    if x.shape[1] != 3:
        return x
    a, b = SATURATE[severity - 1]
    value, low = x.amax(dim=1, keepdim=True), x.amin(dim=1, keepdim=True)
    delta = value - low
    sat = torch.where(value > 0, delta / value.clamp_min(1e-12), torch.zeros_like(value))
    new_sat = (sat * a + b).clamp(0, 1)
    red = x.new_tensor([0.0, 1.0, 1.0]).view(1, 3, 1, 1)  # g(hue 0): (V, V(1-S), V(1-S))
    g = torch.where(delta > 0, (value - x) / delta.clamp_min(1e-12), red)
    return (value - value * new_sat * g).clamp(0, 1)


def jpeg_compression(x: Tensor, severity: int, gen: torch.Generator) -> Tensor:
    """PIL's own encoder on the host (exact; one device -> host -> device copy). 1- or 3-channel images."""
    b, c, h, w = x.shape
    pixels = (x.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    out = np.empty_like(pixels)
    for i, img in enumerate(pixels):
        buf = io.BytesIO()
        Image.fromarray(img[..., 0] if c == 1 else img).save(buf, "JPEG", quality=JPEG_QUALITY[severity - 1])
        out[i] = np.asarray(Image.open(buf)).reshape(h, w, c)
    return torch.from_numpy(out).to(x.device).permute(0, 3, 1, 2).to(x.dtype) / 255


@functools.lru_cache(maxsize=32)
def pil_box_coefficients(in_size: int, out_size: int) -> np.ndarray:
    """(out, in) integer weights of Pillow's BOX resampling (Resample.c precompute_coeffs + normalize_coeffs_8bpc):
    input pixels whose centre lies in each output pixel's footprint, equally weighted, in 22-bit fixed point."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support, ss = 0.5 * filterscale, 1.0 / filterscale
    k = np.zeros((out_size, in_size))
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        lo, hi = max(int(center - support + 0.5), 0), min(int(center + support + 0.5), in_size)
        taps = np.array([1.0 if -0.5 < (j - center + 0.5) * ss <= 0.5 else 0.0 for j in range(lo, hi)])
        if taps.sum() > 0:
            k[xx, lo:hi] = np.floor(0.5 + taps / taps.sum() * (1 << PIL_PRECISION_BITS))
    return k


def _pil_pass(x: Tensor, k: np.ndarray, dim: int) -> Tensor:
    """One Pillow resampling pass along `dim` of integer-valued float64 pixels, rounded and clipped to uint8."""
    weights = torch.as_tensor(k, dtype=torch.float64, device=x.device)
    acc = torch.einsum("oi,bchi->bcho", weights, x) if dim == 3 else torch.einsum("oi,bciw->bcow", weights, x)
    half = float(1 << (PIL_PRECISION_BITS - 1))
    return torch.floor((acc + half) / (1 << PIL_PRECISION_BITS)).clamp(0, 255)  # exact: sums stay below 2**53


def _pil_resize(x: Tensor, h: int, w: int) -> Tensor:
    x = _pil_pass(x, pil_box_coefficients(x.shape[3], w), dim=3)  # Pillow: horizontal pass first
    return _pil_pass(x, pil_box_coefficients(x.shape[2], h), dim=2)


def pixelate(x: Tensor, severity: int, gen: torch.Generator) -> Tensor:
    c = PIXELATE[severity - 1]
    h, w = x.shape[-2:]
    pixels = (x.clamp(0, 1) * 255).round().double()
    pixels = _pil_resize(_pil_resize(pixels, int(h * c), int(w * c)), h, w)
    return (pixels / 255).to(x.dtype)


def _affine_source(pts1: Tensor, pts2: Tensor, h: int, w: int) -> tuple[Tensor, Tensor]:
    """Source (row, col) of every output pixel of cv2.warpAffine(img, getAffineTransform(pts1, pts2)), (B, H, W)
    each: the inverse map in cv2's fixed point (1/1024 px, rounded to 1/32 px: its bilinear table)."""
    b = pts1.shape[0]
    src = torch.cat([pts1, torch.ones(b, 3, 1, dtype=torch.float64)], dim=2)  # (B, 3, 3) rows [x, y, 1]
    m = torch.linalg.solve(src, pts2).transpose(1, 2)  # (B, 2, 3): dst = m @ [x, y, 1]
    inv = torch.linalg.inv(torch.cat([m, torch.tensor([[[0.0, 0.0, 1.0]]], dtype=torch.float64).expand(b, 1, 3)], 1))
    xs, ys = torch.arange(w, dtype=torch.float64), torch.arange(h, dtype=torch.float64)
    scale = 1024.0  # cv2 AB_SCALE; round_delta = AB_SCALE / INTER_TAB_SIZE / 2 = 16
    coords = []
    for r in range(2):  # r = 0: source x (column), r = 1: source y (row)
        along_x = torch.round(inv[:, r, 0, None] * xs * scale)  # (B, W)
        along_y = torch.round((inv[:, r, 1, None] * ys + inv[:, r, 2, None]) * scale) + 16  # (B, H)
        coords.append(torch.floor((along_y[:, :, None] + along_x[:, None, :]) / 32) / 32)
    return coords[1], coords[0]


def elastic_transform(x: Tensor, severity: int, gen: torch.Generator) -> Tensor:
    """A random affine (cv2.warpAffine, BORDER_REFLECT_101), then a smooth random displacement field (Gaussian-
    filtered U(-1, 1), scipy 'reflect' edges, truncate 3) applied by scipy.ndimage.map_coordinates(order=1,
    mode='reflect'). Sizes other than 32 scale the constants with min(H, W)."""
    b, c, h, w = x.shape
    size = min(h, w)
    alpha, sigma, jitter = (size * f for f in ELASTIC[severity - 1])
    centre, half = torch.tensor([h // 2, w // 2], dtype=torch.float64), size // 3
    pts1 = torch.stack([centre + half, torch.stack([centre[0] + half, centre[1] - half]), centre - half])
    pts1 = pts1.expand(b, 3, 2)  # read by cv2 as (x, y) points, as in the reference
    cpu = torch.device("cpu")
    jitter_px = uniform((b, 3, 2), gen, cpu, -jitter, jitter, dtype=torch.float64)
    pts2 = (pts1.float() + jitter_px.float()).double()  # the reference adds them in float32
    rows, cols = _affine_source(pts1, pts2, h, w)
    x = bilinear(x, rows.to(x.device, x.dtype), cols.to(x.device, x.dtype), "mirror")
    shifts = uniform((2, b, 1, h, w), gen, x.device, -1.0, 1.0, dtype=torch.float64)
    dx, dy = (gaussian_filter(s, sigma, mode="reflect", truncate=3.0).mul(alpha).to(x.dtype)[:, 0] for s in shifts)
    ys = torch.arange(h, device=x.device, dtype=x.dtype).view(1, h, 1)
    xs = torch.arange(w, device=x.device, dtype=x.dtype).view(1, 1, w)
    return bilinear(x, ys + dy, xs + dx, "reflect").clamp(0, 1)
