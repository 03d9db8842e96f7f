"""The weather corruptions of CIFAR-10-C (fog, snow, brightness; frost needs the authors' frost photographs and is
not included), with the severity constants of make_cifar_c.py (hendrycks/robustness, ImageNet-C/create_c/).
"""

from __future__ import annotations

import torch
from torch import Tensor

from trainables.robustness.ops import clipped_zoom, motion_blur_im, normal, to_uint8_grid, uniform

FOG = ((0.2, 3), (0.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75))  # (fog strength, plasma-fractal wibble decay)
SNOW = (  # (flake mean, flake std, flake zoom, flake threshold, blur radius px, blur sigma px, image weight)
    (0.1, 0.2, 1, 0.6, 8, 3, 0.95),
    (0.1, 0.2, 1, 0.5, 10, 4, 0.9),
    (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9),
    (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85),
    (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8),
)
BRIGHTNESS = (0.05, 0.1, 0.15, 0.2, 0.3)  # added to HSV value
RGB_TO_GRAY = (0.299, 0.587, 0.114)  # cv2.COLOR_RGB2GRAY


def plasma_fractal(batch: int, mapsize: int, wibbledecay: float, gen: torch.Generator) -> Tensor:
    """(batch, mapsize, mapsize) float64 in [0, 1] on gen's device: make_cifar_c's diamond-square heightmap (from
    FLHerne/mapgen), one per image. Its noise is `wibble * U(-wibble, wibble)`, wibble squared as in the original."""
    assert mapsize & (mapsize - 1) == 0, f"mapsize must be a power of two, got {mapsize=}"
    m = torch.zeros(batch, mapsize, mapsize, dtype=torch.float64, device=gen.device)
    step, wibble = mapsize, 100.0

    def wibbled_mean(a: Tensor) -> Tensor:
        return a / 4 + wibble * uniform(a.shape, gen, gen.device, -wibble, wibble, dtype=torch.float64)

    while step >= 2:
        half = step // 2
        corners = m[:, ::step, ::step]
        squares = corners + corners.roll(-1, 1)
        squares = squares + squares.roll(-1, 2)
        m[:, half::step, half::step] = wibbled_mean(squares)
        centres, corners = m[:, half::step, half::step], m[:, ::step, ::step]
        m[:, ::step, half::step] = wibbled_mean((centres + centres.roll(1, 1)) + (corners + corners.roll(-1, 2)))
        m[:, half::step, ::step] = wibbled_mean((centres + centres.roll(1, 2)) + (corners + corners.roll(-1, 1)))
        step //= 2
        wibble /= wibbledecay
    m = m - m.amin(dim=(1, 2), keepdim=True)
    return m / m.amax(dim=(1, 2), keepdim=True)


def fog(x: Tensor, severity: int, gen: torch.Generator) -> Tensor:
    """The reference draws a 32x32 fractal; other sizes crop one of the next power of two."""
    strength, decay = FOG[severity - 1]
    b, _, h, w = x.shape
    size = 1 << (max(h, w) - 1).bit_length()
    haze = plasma_fractal(b, size, decay, gen)[:, None, :h, :w].to(x.device, x.dtype)
    peak = x.amax(dim=(1, 2, 3), keepdim=True)
    return ((x + strength * haze) * peak / (peak + strength)).clamp(0, 1)


def snow(x: Tensor, severity: int, gen: torch.Generator) -> Tensor:
    """Flakes: zoomed, thresholded Gaussian noise, stored as an 8-bit image, motion-blurred by ImageMagick along
    U(-135, -45) degrees, added twice (once rotated 180 degrees) to an image pushed towards its brightened gray."""
    loc, scale, zoom, threshold, radius, sigma, keep = SNOW[severity - 1]
    b, c, h, w = x.shape
    flakes = clipped_zoom(normal((b, 1, h, w), gen, x.device, loc, scale, dtype=torch.float64), zoom)
    flakes = torch.where(flakes < threshold, 0.0, flakes)
    flakes = torch.floor(flakes.clamp(0, 1) * 255) / 255  # PIL 'L' image of np.uint8(flakes * 255)
    angle = uniform((b,), gen, torch.device("cpu"), -135.0, -45.0, dtype=torch.float64)
    flakes = to_uint8_grid(motion_blur_im(flakes, radius, sigma, angle), rounding="round").to(x.dtype)
    if c == 3:
        gray = torch.einsum("bchw,c->bhw", x, x.new_tensor(RGB_TO_GRAY)).unsqueeze(1)
    else:
        gray = x
    x = keep * x + (1 - keep) * torch.maximum(x, gray * 1.5 + 0.5)
    return (x + flakes + flakes.flip(-2, -1)).clamp(0, 1)


def brightness(x: Tensor, severity: int, gen: torch.Generator) -> Tensor:
    """skimage HSV round trip with V += c (clipped): hue and saturation fixed, so RGB scales by V'/V; a black pixel
    (V = 0, S = 0) becomes gray V'. Exact algebraically; no HSV conversion needed. Works for any channel count."""
    value = x.amax(dim=1, keepdim=True)
    lifted = (value + BRIGHTNESS[severity - 1]).clamp(0, 1)
    scaled = x * (lifted / value.clamp_min(1e-12))
    return torch.where(value > 0, scaled, lifted).clamp(0, 1)
