"""RandAugment on uint8 (B, C, H, W) batches on any device, each image with its own ops: timm's op set and levels.

timm's RandAugment works on one PIL image at a time in DataLoader workers; this one groups a batch by op and runs
each group as one tensor call (`python -m benchmarks.data_path` measures the difference).

Magnitude follows timm (`_LEVEL_DENOM = 10`): level = min(m, 10) / 10, so m=9 is 0.9 of each op's maximum and
m > 10 saturates as in timm without `mmax`. With `increasing=True` (timm's `inc1`, the RSB/DeiT choice) every op
grows more severe with m and m=0 leaves all but AutoContrast, Equalize, Invert and Posterize (4 bits) as identity:

    Rotate                      +-30 * level degrees about the centre     (sign random per image)
    ShearX, ShearY              +-0.3 * level                             (about the top-left corner, as PIL)
    TranslateXRel, ...YRel      +-0.45 * level of the width / height
    Posterize                   keep 4 - int(4 * level) bits              (increasing=False: int(4 * level))
    Solarize                    invert pixels >= 256 - int(256 * level)   (increasing=False: >= int(256 * level))
    SolarizeAdd                 add int(110 * level) to pixels < 128
    Color, Contrast,            blend factor max(0.1, 1 +- 0.9 * level)   (increasing=False: 0.1 + 1.8 * level)
    Brightness, Sharpness
    AutoContrast, Equalize, Invert   no magnitude

Geometric ops sample bilinearly (timm picks bilinear or bicubic at random) and fill with 128 outside the image.
Color is the identity on 1-channel images, as PIL's is on mode "L".
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["OPS", "RandAugmentBatch", "apply_op"]

OPS: tuple[str, ...] = (  # timm's _RAND_TRANSFORMS, in its order
    "AutoContrast", "Equalize", "Invert", "Rotate", "Posterize", "Solarize", "SolarizeAdd", "Color", "Contrast",
    "Brightness", "Sharpness", "ShearX", "ShearY", "TranslateXRel", "TranslateYRel",
)
GEOMETRIC = frozenset({"Rotate", "ShearX", "ShearY", "TranslateXRel", "TranslateYRel"})
FILL = 128.0  # timm's _FILL grey
_LEVEL_DENOM = 10.0


def _equalize(x: Tensor) -> Tensor:
    """torchvision's histogram equalization, imported on first use (torchvision takes ~1.5 s to import)."""
    from torchvision.transforms.v2 import functional as TF

    return TF.equalize(x)


def _level(m: float) -> float:
    return max(0.0, min(float(m), _LEVEL_DENOM)) / _LEVEL_DENOM


# ---- pixel ops: (x uint8 (k, C, H, W), sign float (k,) of +-1) -> uint8 --------------------------------------

def _gray(x: Tensor) -> Tensor:
    """PIL's "L" conversion (ITU-R 601-2 luma, fixed point), as float (k, 1, H, W)."""
    if x.shape[1] == 1:
        return x.float()
    r, g, b = x.int().unbind(1)
    return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).unsqueeze(1).float()


def _blend(degenerate: Tensor, x: Tensor, factor: Tensor) -> Tensor:
    """PIL's Image.blend(degenerate, x, factor): extrapolates for factor > 1, truncates to uint8."""
    f = factor.view(-1, 1, 1, 1)
    return (degenerate + f * (x.float() - degenerate)).clamp_(0, 255).to(torch.uint8)


def _smooth(x: Tensor) -> Tensor:
    """PIL's SMOOTH filter (3x3, centre 5, /13), rounded; the one-pixel border is kept as it was."""
    c = x.shape[1]
    kernel = torch.ones(c, 1, 3, 3, device=x.device)
    kernel[:, :, 1, 1] = 5.0
    inner = F.conv2d(x.float(), kernel / 13.0, groups=c).round_()
    out = x.float()
    out[:, :, 1:-1, 1:-1] = inner
    return out


def _autocontrast(x: Tensor) -> Tensor:
    lo = x.amin((2, 3), keepdim=True).float()
    hi = x.amax((2, 3), keepdim=True).float()
    scale = 255.0 / (hi - lo).clamp_min(1.0)
    stretched = ((x.float() - lo) * scale).clamp_(0, 255).to(torch.uint8)
    return torch.where(hi > lo, stretched, x)  # a flat channel stays as it is


def _pixel_ops(level: float, increasing: bool) -> dict[str, Callable[[Tensor, Tensor], Tensor]]:
    """Each op's argument is fixed by the level up front; only the sign varies per image."""
    if increasing:
        bits = 4 - int(level * 4)
        thresh = 256 - min(256, int(level * 256))
        enhance = lambda s: (1.0 + s * 0.9 * level).clamp_min(0.1)  # noqa: E731
    else:
        bits = int(level * 4)
        thresh = min(256, int(level * 256))
        enhance = lambda s: torch.full_like(s, 0.1 + 1.8 * level)  # noqa: E731
    add = min(128, int(level * 110))
    mask = (0xFF << (8 - bits)) & 0xFF
    return {
        "AutoContrast": lambda x, s: _autocontrast(x),
        "Equalize": lambda x, s: _equalize(x),
        "Invert": lambda x, s: 255 - x,
        "Posterize": lambda x, s: x if bits >= 8 else x & mask,
        "Solarize": lambda x, s: x if thresh > 255 else torch.where(x >= thresh, 255 - x, x),  # 256 wraps in uint8
        "SolarizeAdd": lambda x, s: torch.where(x < 128, (x.int() + add).clamp_(max=255).to(torch.uint8), x),
        "Color": lambda x, s: x if x.shape[1] == 1 else _blend(_gray(x), x, enhance(s)),
        "Contrast": lambda x, s: _blend(_gray(x).mean((1, 2, 3), keepdim=True).add_(0.5).floor_(), x, enhance(s)),
        "Brightness": lambda x, s: _blend(torch.zeros((), device=x.device), x, enhance(s)),
        "Sharpness": lambda x, s: _blend(_smooth(x), x, enhance(s)),
    }


# ---- geometric ops: a (k, 3, 3) output -> input map in pixel coordinates (PIL's convention), one warp ----------

def _affine(name: str, sign: Tensor, level: float, h: int, w: int) -> Tensor:
    m = torch.eye(3, device=sign.device).repeat(len(sign), 1, 1)
    if name == "Rotate":  # PIL rotates counter-clockwise about (w/2, h/2)
        a = sign * math.radians(30.0 * level)
        cos, sin = a.cos(), a.sin()
        m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = cos, -sin, sin, cos
        m[:, 0, 2] = w / 2 - cos * w / 2 + sin * h / 2
        m[:, 1, 2] = h / 2 - sin * w / 2 - cos * h / 2
    elif name == "ShearX":
        m[:, 0, 1] = sign * 0.3 * level
    elif name == "ShearY":
        m[:, 1, 0] = sign * 0.3 * level
    elif name == "TranslateXRel":
        m[:, 0, 2] = sign * 0.45 * level * w
    else:  # TranslateYRel
        m[:, 1, 2] = sign * 0.45 * level * h
    return m


def _warp(x: Tensor, pixel_maps: Tensor) -> Tensor:
    """Bilinear resampling by output -> input maps, truncated to uint8; points outside the image get FILL, as PIL."""
    _, _, h, w = x.shape
    to_norm = torch.tensor([[2 / w, 0, -1], [0, 2 / h, -1], [0, 0, 1]], device=x.device)
    theta = (to_norm @ pixel_maps @ torch.linalg.inv(to_norm))[:, :2]
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x.float(), grid, mode="bilinear", padding_mode="border", align_corners=False)
    outside = (grid.abs() > 1).any(-1, keepdim=True).permute(0, 3, 1, 2)
    return out.masked_fill_(outside, FILL).clamp_(0, 255).to(torch.uint8)


def apply_op(images: Tensor, name: str, m: float, *, sign: Tensor | None = None, increasing: bool = True) -> Tensor:
    """One op at magnitude m on every image of a uint8 batch; `sign` (k,) of +-1 picks each image's direction."""
    sign = torch.ones(len(images), device=images.device) if sign is None else sign.to(images.device, torch.float32)
    level = _level(m)
    if name in GEOMETRIC:
        return _warp(images, _affine(name, sign, level, *images.shape[2:]))
    return _pixel_ops(level, increasing)[name](images, sign)


class RandAugmentBatch:
    """`n` ops per image, each drawn uniformly (with replacement) from OPS and applied with probability `prob`.

    Draws come from a CPU generator, the one given per call or else the one given here (None: torch's global),
    so CPU and GPU runs of the same seed augment alike; the grouping then needs no device sync.
    """

    def __init__(self, n: int, m: float, generator: torch.Generator | None = None, *, prob: float = 0.5,
                 increasing: bool = True):
        if n < 0 or m < 0 or not 0.0 <= prob <= 1.0:
            raise ValueError(f"`n >= 0, m >= 0 and 0 <= prob <= 1` must hold, but got ({n=}, {m=}, {prob=}).")
        self.n, self.m, self.prob, self.generator = n, m, prob, generator  # prob: timm's default p=0.5
        self.level = _level(m)
        self.pixel = _pixel_ops(self.level, increasing)

    def __call__(self, images: Tensor, generator: torch.Generator | None = None) -> Tensor:
        if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] not in (1, 3):
            raise ValueError(f"RandAugmentBatch takes uint8 (B, 1 or 3, H, W) batches, but got "
                             f"{images.dtype=}, {tuple(images.shape)=}.")
        gen = generator if generator is not None else self.generator
        b = images.shape[0]
        for _ in range(self.n):  # the same number of draws whatever is chosen, so streams stay aligned
            op = torch.randint(len(OPS), (b,), generator=gen)
            op[torch.rand(b, generator=gen) >= self.prob] = -1  # -1: this layer skips the image
            sign = torch.where(torch.rand(b, generator=gen) < 0.5, -1.0, 1.0)
            images = self._layer(images, op, sign)
        return images

    def _layer(self, x: Tensor, op: Tensor, sign: Tensor) -> Tensor:
        out = x.clone()
        geo_idx, geo_maps = [], []
        for k in op.unique().tolist():  # op lives on the CPU: no device sync
            if k < 0:
                continue
            name, idx = OPS[k], (op == k).nonzero().squeeze(1)
            s = sign[idx].to(x.device)
            if name in GEOMETRIC:  # all geometric ops of this layer share one warp
                geo_idx.append(idx)
                geo_maps.append(_affine(name, s, self.level, *x.shape[2:]))
            else:
                idx = idx.to(x.device)
                out[idx] = self.pixel[name](x[idx], s)
        if geo_idx:
            idx = torch.cat(geo_idx).to(x.device)
            out[idx] = _warp(x[idx], torch.cat(geo_maps))
        return out
