"""Reference corruptions in numpy/scipy/PIL, written from the algorithm of make_cifar_c.py (hendrycks/robustness,
ImageNet-C/create_c/make_cifar_c.py) on one HWC float64 image in [0, 1], with its random draws passed in.

Where the original calls a library we lack (OpenCV, skimage's HSV, ImageMagick), the step is written from that
library's documented algorithm and says so.
"""

from __future__ import annotations

import io
import math

import numpy as np
import torch
from PIL import Image
from scipy import ndimage


def hwc(x) -> np.ndarray:
    """One (C, H, W) torch image on uint8 levels as the reference sees it: np.array(uint8 HWC) / 255."""
    return np.round(x.permute(1, 2, 0).double().numpy() * 255) / 255


def gaussian(x: np.ndarray, sigma: float, mode: str = "nearest", truncate: float = 4.0) -> np.ndarray:
    """skimage.filters.gaussian(x, sigma, multichannel=True): scipy's filter over the two spatial axes."""
    sigmas = (sigma, sigma, 0) if x.ndim == 3 else sigma
    return ndimage.gaussian_filter(x, sigmas, mode=mode, truncate=truncate)


def centre_zoom(a: np.ndarray, factor: float) -> np.ndarray:
    """Zoom into the centre of a square HWC array, keeping its size: crop ceil(n/factor), scipy zoom (order 1),
    cut the centre n back out."""
    n = a.shape[0]
    keep = int(np.ceil(n / factor))
    start = (n - keep) // 2
    big = ndimage.zoom(a[start:start + keep, start:start + keep], (factor, factor, 1), order=1)
    cut = (big.shape[0] - n) // 2
    return big[cut:cut + n, cut:cut + n]


def glass_blur(x: np.ndarray, sigma: float, iterations: int, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dx, dy: (iterations, H, W) randint(-1, 1) draws, read at each visited pixel. The sequential loop and the
    tuple assignment of numpy views are kept as the original has them: that is what the port must reproduce."""
    img = np.uint8(gaussian(x, sigma) * 255)
    rows, cols = img.shape[:2]
    for it in range(iterations):
        for r in range(rows - 1, 1, -1):
            for q in range(cols - 1, 1, -1):
                r2, q2 = r + dy[it, r, q], q + dx[it, r, q]
                img[r, q], img[r2, q2] = img[r2, q2], img[r, q]
    return np.clip(gaussian(img / 255.0, sigma), 0, 1)


def cv2_gaussian_kernel(ksize: int, sigma: float) -> np.ndarray:
    """cv2.getGaussianKernel for sigma > 0 (documented formula)."""
    i = np.arange(ksize) - (ksize - 1) / 2
    k = np.exp(-(i**2) / (2 * sigma**2))
    return k / k.sum()


def disk(radius: float, alias_blur: float) -> np.ndarray:
    """Pixels of a 17x17 grid within `radius` of its centre, normalized, then cv2.GaussianBlur((3, 3), alias_blur):
    separable, BORDER_REFLECT_101 (scipy 'mirror')."""
    offsets = np.arange(17) - 8
    inside = (offsets[:, None] ** 2 + offsets[None, :] ** 2 <= radius**2).astype(np.float32)
    inside /= inside.sum()
    g = cv2_gaussian_kernel(3, alias_blur)
    rows = ndimage.correlate1d(inside.astype(np.float64), g, 0, mode="mirror")
    return ndimage.correlate1d(rows, g, 1, mode="mirror")


def defocus_blur(x: np.ndarray, radius: float, alias_blur: float) -> np.ndarray:
    kernel = disk(radius, alias_blur)
    # cv2.filter2D: correlation, anchor at the centre, BORDER_REFLECT_101
    channels = [ndimage.correlate(x[:, :, d], kernel, mode="mirror") for d in range(x.shape[2])]
    return np.clip(np.stack(channels, axis=2), 0, 1)


def imagemagick_motion_blur(x: np.ndarray, radius: float, sigma: float, angle: float) -> np.ndarray:
    """MotionBlurImage (MagickCore/effect.c, 6.8+), written from its source: width 2*ceil(radius)+1, one-sided
    kernel exp(-i^2/2sigma^2) normalized, tap i at (ceil(i*cos - 0.5), ceil(i*sin - 0.5)), edge virtual pixels."""
    width = int(2 * math.ceil(radius) + 1)
    kernel = np.exp(-(np.arange(width) ** 2) / (2 * sigma * sigma))
    kernel /= kernel.sum()
    px, py = width * math.sin(math.radians(angle)), width * math.cos(math.radians(angle))
    h, w = x.shape[:2]
    out = np.zeros_like(x)
    for i in range(width):
        ox = math.ceil(i * py / math.hypot(px, py) - 0.5)
        oy = math.ceil(i * px / math.hypot(px, py) - 0.5)
        rows = np.clip(np.arange(h) + oy, 0, h - 1)
        cols = np.clip(np.arange(w) + ox, 0, w - 1)
        out += kernel[i] * x[rows][:, cols]
    return np.round(np.clip(out, 0, 1) * 255) / 255  # back through an 8-bit PNG


def zoom_blur(x: np.ndarray, stop: float) -> np.ndarray:
    """The float32 image averaged with its centre zooms by 1.00, 1.01, ... < stop."""
    img = x.astype(np.float32)
    views = [img] + [centre_zoom(img, z) for z in np.arange(1, stop, 0.01)]
    return np.clip(np.sum(views, axis=0) / len(views), 0, 1)


def plasma_fractal(size: int, decay: float, uniform) -> np.ndarray:
    """Diamond-square heightmap scaled to [0, 1]; `uniform(low, high, shape)` supplies the draws. Each new point is
    the mean of its 4 neighbours (wrapping) plus amp * U(-amp, amp), amp = 100 shrinking by `decay` per level."""
    grid = np.zeros((size, size))
    amp = 100.0

    def jittered(total):
        return total / 4 + amp * uniform(-amp, amp, total.shape)

    step = size
    while step > 1:
        mid = step // 2
        corner = grid[::step, ::step]
        around = corner + np.roll(corner, -1, axis=0)
        around = around + np.roll(around, -1, axis=1)
        grid[mid::step, mid::step] = jittered(around)
        centre, corner = grid[mid::step, mid::step], grid[::step, ::step]
        row_pairs = (centre + np.roll(centre, 1, axis=0)) + (corner + np.roll(corner, -1, axis=1))
        grid[::step, mid::step] = jittered(row_pairs)
        col_pairs = (centre + np.roll(centre, 1, axis=1)) + (corner + np.roll(corner, -1, axis=0))
        grid[mid::step, ::step] = jittered(col_pairs)
        step = mid
        amp /= decay
    grid = grid - grid.min()
    return grid / grid.max()


def fog(x: np.ndarray, strength: float, decay: float, uniform) -> np.ndarray:
    peak = x.max()
    hazy = x + strength * plasma_fractal(32, decay, uniform)[:, :, None]
    return np.clip(hazy * peak / (peak + strength), 0, 1)


def snow(x: np.ndarray, c: tuple, flakes: np.ndarray, angle: float) -> np.ndarray:
    """flakes: the (H, W) normal(loc=c[0], scale=c[1]) draw; angle: the U(-135, -45) draw."""
    mean, std, zoom, threshold, radius, sigma, keep = c
    layer = centre_zoom(flakes[:, :, None], zoom)[:, :, 0]
    layer = np.where(layer < threshold, 0.0, layer)
    layer = np.uint8(np.clip(layer, 0, 1) * 255) / 255.0  # an 8-bit grayscale image for ImageMagick
    layer = imagemagick_motion_blur(layer, radius, sigma, angle)[:, :, None]
    img = x.astype(np.float32)
    gray = img @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # cv2.COLOR_RGB2GRAY
    img = keep * img + (1 - keep) * np.maximum(img, gray[:, :, None] * 1.5 + 0.5)
    return np.clip(img + layer + layer[::-1, ::-1], 0, 1)


def rgb2hsv(arr: np.ndarray) -> np.ndarray:
    """skimage.color.rgb2hsv, written from its source."""
    out = np.empty_like(arr)
    v = arr.max(-1)
    delta = np.ptp(arr, -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = delta / v
        s[delta == 0.0] = 0.0
        h = np.zeros_like(v)
        idx = arr[..., 0] == v
        h[idx] = (arr[..., 1][idx] - arr[..., 2][idx]) / delta[idx]
        idx = arr[..., 1] == v
        h[idx] = 2.0 + (arr[..., 2][idx] - arr[..., 0][idx]) / delta[idx]
        idx = arr[..., 2] == v
        h[idx] = 4.0 + (arr[..., 0][idx] - arr[..., 1][idx]) / delta[idx]
    h = (h / 6.0) % 1.0
    h[delta == 0.0] = 0.0
    out[..., 0], out[..., 1], out[..., 2] = h, s, v
    return out


def hsv2rgb(hsv: np.ndarray) -> np.ndarray:
    """skimage.color.hsv2rgb, written from its source."""
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    hi = np.floor(h * 6)
    f = h * 6 - hi
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    hi = np.stack([hi, hi, hi], axis=-1).astype(np.uint8) % 6
    return np.choose(hi, np.stack([np.stack((v, t, p), -1), np.stack((q, v, p), -1), np.stack((p, v, t), -1),
                                   np.stack((p, q, v), -1), np.stack((t, p, v), -1), np.stack((v, p, q), -1)]))


def brightness(x: np.ndarray, c: float) -> np.ndarray:
    x = rgb2hsv(x)
    x[:, :, 2] = np.clip(x[:, :, 2] + c, 0, 1)
    return np.clip(hsv2rgb(x), 0, 1)


def saturate(x: np.ndarray, c: tuple) -> np.ndarray:
    x = rgb2hsv(x)
    x[:, :, 1] = np.clip(x[:, :, 1] * c[0] + c[1], 0, 1)
    return np.clip(hsv2rgb(x), 0, 1)


def contrast(x: np.ndarray, c: float) -> np.ndarray:
    means = np.mean(x, axis=(0, 1), keepdims=True)
    return np.clip((x - means) * c + means, 0, 1)


def pixelate(x: np.ndarray, c: float) -> np.ndarray:
    img = Image.fromarray(np.uint8(np.round(x * 255)))
    size = img.size[0]
    img = img.resize((int(size * c), int(size * c)), Image.BOX).resize((size, size), Image.BOX)
    return np.asarray(img) / 255.0


def jpeg_compression(x: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(np.uint8(np.round(x * 255))).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf)) / 255.0


def cv2_warp_affine_reflect101(image: np.ndarray, m: np.ndarray) -> np.ndarray:
    """cv2.warpAffine(INTER_LINEAR, BORDER_REFLECT_101), written from its documented fixed point: the inverse
    map in 1/1024 px (AB_BITS = 10), rounded to the 1/32 px bilinear table (INTER_BITS = 5)."""
    d = m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]  # cv2.invertAffineTransform
    a11, a22, a12, a21 = m[1, 1] / d, m[0, 0] / d, -m[0, 1] / d, -m[1, 0] / d
    inv = np.array([[a11, a12, -a11 * m[0, 2] - a12 * m[1, 2]], [a21, a22, -a21 * m[0, 2] - a22 * m[1, 2]]])
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    fixed = [np.floor((np.round(inv[r, 0] * xs * 1024) + np.round((inv[r, 1] * ys + inv[r, 2]) * 1024) + 16) / 32)
             / 32 for r in range(2)]
    coords = np.stack([fixed[1], fixed[0]])  # (row, col)
    return np.stack([ndimage.map_coordinates(image[..., k], coords, order=1, mode="mirror")
                     for k in range(image.shape[2])], axis=2)


def elastic_transform(image: np.ndarray, c: tuple, jitter: np.ndarray, noise_x: np.ndarray,
                      noise_y: np.ndarray) -> np.ndarray:
    """c: (alpha, sigma, affine) already scaled by IMSIZE; jitter (3, 2) U(-affine, affine), noise_* (H, W)
    U(-1, 1). Affine: three points around the centre (+-size//3) moved by `jitter`; then each pixel is resampled
    from (row + dy, col + dx), dx/dy the noise smoothed by gaussian(sigma, 'reflect', truncate 3) times alpha."""
    img = image.astype(np.float32)
    h, w, chans = img.shape
    cy, cx, d = np.float32(h // 2), np.float32(w // 2), min(h, w) // 3
    src = np.array([[cy + d, cx + d], [cy + d, cx - d], [cy - d, cx - d]], dtype=np.float32)  # read as (x, y)
    dst = src + jitter.astype(np.float32)
    # cv2.getAffineTransform: the 2x3 map sending each src point to its dst point
    m = np.linalg.solve(np.c_[src.astype(np.float64), np.ones(3)], dst.astype(np.float64)).T
    img = cv2_warp_affine_reflect101(img, m)
    dx = (gaussian(noise_x, c[1], mode="reflect", truncate=3) * c[0]).astype(np.float32)
    dy = (gaussian(noise_y, c[1], mode="reflect", truncate=3) * c[0]).astype(np.float32)
    rows, cols = np.mgrid[0:h, 0:w]
    coords = np.stack([rows + dy, cols + dx])
    out = [ndimage.map_coordinates(img[:, :, k], coords, order=1, mode="reflect") for k in range(chans)]
    return np.clip(np.stack(out, axis=2), 0, 1)


SEED = 7
SEVERITIES = [1, 2, 3, 4, 5]


def seeded() -> torch.Generator:
    """The generator both the torch port and the reference draw from, so their random parts coincide."""
    return torch.Generator().manual_seed(SEED)


def assert_matches(out: torch.Tensor, refs: list[np.ndarray], atol: float = 1e-6) -> None:
    """Torch (B, C, H, W) output against a list of reference (H, W, C) images."""
    np.testing.assert_allclose(out.double().numpy(), np.stack(refs).transpose(0, 3, 1, 2), atol=atol, rtol=0)
