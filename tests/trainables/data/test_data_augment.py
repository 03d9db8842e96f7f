"""The vectorized crop is a zero-padded shift, the flip a mirror, and a no-flip transform never mirrors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from trainables.data.batching import BatchTransform, epoch_generator, random_crop, random_hflip, split_indices


def _shifts(image: torch.Tensor, pad: int) -> list[torch.Tensor]:
    """Every crop of `image` zero-padded by `pad`: the outputs a crop-only augmentation may produce."""
    h, w = image.shape[-2:]
    padded = F.pad(image, (pad, pad, pad, pad))
    return [padded[..., i:i + h, j:j + w] for i in range(2 * pad + 1) for j in range(2 * pad + 1)]


def _asymmetric(n: int, size: int = 8) -> torch.Tensor:
    # Distinct, strictly increasing pixels: no crop of an image equals a crop of its mirror image.
    return (torch.arange(n * size * size).view(n, 1, size, size) % 200 + 1).to(torch.uint8)


def test_crop_is_a_padded_shift_and_pad_zero_is_identity():
    x = _asymmetric(16)
    out = random_crop(x, 2, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.dtype == torch.uint8
    assert all(any(torch.equal(o, s) for s in _shifts(img, 2)) for o, img in zip(out, x))
    assert torch.equal(random_crop(x, 0, torch.Generator()), x)


def test_hflip_mirrors_about_half():
    x = _asymmetric(200)
    out = random_hflip(x, torch.Generator().manual_seed(0))
    flipped = [torch.equal(o, img.flip(-1)) for o, img in zip(out, x)]
    assert all(f or torch.equal(o, img) for f, o, img in zip(flipped, out, x)) and 70 < sum(flipped) < 130


def _mirrored_count(flip: bool) -> int:
    stats = ((0.0,), (1 / 255,))  # normalize() then returns the raw pixel values
    transform = BatchTransform(stats, 8, augment=True, flip=flip, device=torch.device("cpu"))
    assert transform.pad == 1  # image_size // 8, at least 1
    x = _asymmetric(64)
    out = transform.train(x, epoch_generator(0, 0)).round().to(torch.uint8)
    mirrored = [not any(torch.equal(o, s) for s in _shifts(img, 1)) for o, img in zip(out, x)]
    assert all(not m or any(torch.equal(o, s) for s in _shifts(img.flip(-1), 1))
               for m, o, img in zip(mirrored, out, x))
    return sum(mirrored)


def test_digit_style_transform_never_mirrors_but_cifar_style_does():
    assert _mirrored_count(flip=False) == 0
    assert _mirrored_count(flip=True) > 10


def test_split_sizes_and_bad_fraction():
    train, val = split_indices(10, 0.3, 0)
    assert (len(train), len(val)) == (7, 3) and sorted(train.tolist() + val.tolist()) == list(range(10))
    assert len(split_indices(10, 0.0, 0)[1]) == 0
    with pytest.raises(ValueError, match="val_fraction=1.0"):
        split_indices(10, 1.0, 0)
