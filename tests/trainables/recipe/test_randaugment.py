"""Batched RandAugment: uint8 in and out on the input's device, seeded, per image, and timm's PIL ops to within 1."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from timm.data import auto_augment as aa

from trainables.recipe import OPS, RandAugmentBatch, apply_op

WITH_PLAIN_VARIANT = ("Posterize", "Solarize", "Color", "Contrast", "Brightness", "Sharpness")  # timm's non-`inc` ops


def natural(b=1, c=3, size=32, seed=0) -> torch.Tensor:
    """Smooth uint8 images with a gradient: blends, filters and warps behave as on photos, unlike pure noise."""
    base = torch.rand(b, c, 8, 8, generator=torch.Generator().manual_seed(seed))
    x = F.interpolate(base, size=(size, size), mode="bilinear", align_corners=False) * 200 + 20
    return (x + torch.linspace(0, 30, size)).clamp(0, 255).to(torch.uint8)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("chans", [1, 3])
def test_uint8_shape_and_device_are_kept(chans):
    x = natural(6, chans)
    out = RandAugmentBatch(2, 9, gen())(x)
    assert out.dtype == torch.uint8 and out.shape == x.shape and out.device == x.device
    with pytest.raises(ValueError, match="uint8"):
        RandAugmentBatch(2, 9)(x.float())


def test_seeded_generator_reproduces_and_call_generator_wins():
    x = natural(16)
    a = RandAugmentBatch(2, 9, gen(1))(x)
    assert torch.equal(a, RandAugmentBatch(2, 9, gen(1))(x))
    assert torch.equal(a, RandAugmentBatch(2, 9, gen(99))(x, gen(1)))
    assert not torch.equal(a, RandAugmentBatch(2, 9, gen(2))(x))


def test_each_image_gets_its_own_ops():
    x = natural(1).expand(32, -1, -1, -1).contiguous()
    out = RandAugmentBatch(2, 9, gen())(x)
    assert len({bytes(o.numpy()) for o in out}) > 10  # 32 copies of one image come out mostly different


def test_magnitude_scales_the_change_and_saturates_at_10():
    x = natural(64, seed=3)

    def change(m):  # the same seed: the same ops and signs per image, only the magnitude differs
        return (RandAugmentBatch(2, m, gen())(x).float() - x.float()).abs().mean().item()

    assert change(30) > 1.5 * change(0)
    assert change(0) < change(5) < change(10) == change(30)  # timm clamps m at _LEVEL_DENOM = 10
    assert torch.equal(RandAugmentBatch(0, 30, gen())(x), x)


def test_color_is_identity_on_grayscale():
    x = natural(4, 1)
    assert torch.equal(apply_op(x, "Color", 10, sign=-torch.ones(4)), x)


def _timm(name, img, m, sign, increasing, monkeypatch):
    monkeypatch.setattr(aa, "_randomly_negate", (lambda v: v) if sign > 0 else (lambda v: -v))
    timm_name = name + "Increasing" if increasing and aa.LEVEL_TO_ARG.get(name + "Increasing") else name
    fill = 128 if img.mode == "L" else (128, 128, 128)
    op = aa.AugmentOp(timm_name, prob=1.0, magnitude=m, hparams={"img_mean": fill, "interpolation": Image.BILINEAR})
    out = np.asarray(op(img)).astype(np.int32)
    return torch.from_numpy(out.reshape(*out.shape[:2], -1)).permute(2, 0, 1)


@pytest.mark.parametrize(("name", "increasing"), [(n, True) for n in OPS] + [(n, False) for n in WITH_PLAIN_VARIANT])
def test_ops_match_timm_pil(name, increasing, monkeypatch):
    for chans, m, sign in [(3, 9, 1.0), (3, 6, -1.0), (1, 9, -1.0)]:
        x = natural(1, chans, seed=m)
        pil = Image.fromarray(x[0].permute(1, 2, 0).squeeze(-1).numpy())
        ref = _timm(name, pil, m, sign, increasing, monkeypatch)
        ours = apply_op(x, name, m, sign=torch.tensor([sign]), increasing=increasing)[0].int()
        diff = (ours - ref).abs()
        assert diff.max() <= 1 and diff.float().mean() < 0.05, (chans, m, sign, diff.max(), diff.float().mean())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    x = natural(64)
    cpu = RandAugmentBatch(2, 9, gen())(x)
    cuda = RandAugmentBatch(2, 9, gen())(x.cuda())
    assert cuda.device.type == "cuda"
    assert (cuda.cpu().int() - cpu.int()).abs().max() <= 1  # same draws; float rounding may differ by one level
