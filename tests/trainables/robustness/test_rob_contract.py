"""What every corruption promises: range, shape and device kept, reproducible from the generator, per-image
(batching changes nothing), damage growing with severity where CIFAR-10-C's constants make it grow, any size."""

from __future__ import annotations

import pytest
import torch

from trainables.robustness import COLOR_ONLY, CORRUPTIONS, applicable, corrupt

ALL = list(CORRUPTIONS)
DETERMINISTIC = ["gaussian_blur", "defocus_blur", "zoom_blur", "brightness", "contrast", "saturate", "pixelate",
                 "jpeg_compression"]
# Where the published constants do not raise the mean absolute change at every step (documented in robustness.md).
NOT_MONOTONE = {
    "glass_blur": "severities 1-3 differ only in sigma, one pass each; 4-5 make two passes",
    "motion_blur": "severity 4 adds taps beyond 6 sigma to severity 3, so the two nearly coincide",
    "elastic_transform": "the affine jitter shrinks (2.56 -> 0.96 px) as the local displacement grows",
    "saturate": "severities 1-2 desaturate (x0.3, x0.1), 3-5 oversaturate (x1.5 .. x2.5 + 0.2)",
}


def _gen(seed: int = 3) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _damage(photos: torch.Tensor, name: str) -> list[float]:
    return [(corrupt(photos, name, s, _gen()) - photos).abs().mean().item() for s in range(1, 6)]


@pytest.mark.parametrize("name", ALL)
def test_output_in_unit_range_same_shape_and_reproducible(photos, name):
    out = corrupt(photos, name, 5, _gen())
    assert out.shape == photos.shape and out.dtype == torch.float32 and out.device == photos.device
    assert out.min() >= 0 and out.max() <= 1
    assert torch.equal(out, corrupt(photos, name, 5, _gen()))  # same generator state, same images
    assert not torch.equal(out, photos)


@pytest.mark.parametrize("name", ALL)
def test_each_image_is_corrupted_independently_of_the_rest_of_the_batch(photos, name):
    """The first image's result does not depend on what else is in the batch (random ones: same draws)."""
    other = photos.flip(0)
    other[0] = photos[0]
    assert torch.allclose(corrupt(photos, name, 3, _gen())[0], corrupt(other, name, 3, _gen())[0], atol=1e-6)


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_batch_equals_one_image_at_a_time(photos, name):
    batch = corrupt(photos, name, 4, _gen())
    singles = torch.cat([corrupt(x[None], name, 4, _gen()) for x in photos])
    assert torch.allclose(batch, singles, atol=1e-6)


@pytest.mark.parametrize("name", [n for n in ALL if n not in NOT_MONOTONE])
def test_damage_grows_with_severity(photos, name):
    damage = _damage(photos, name)
    assert all(a < b for a, b in zip(damage, damage[1:])), damage


def test_damage_of_the_non_monotone_constants(photos):
    glass, motion, saturate = (_damage(photos, n) for n in ("glass_blur", "motion_blur", "saturate"))
    assert min(glass[3:]) > max(glass[:3])
    assert all(a <= b + 1e-4 for a, b in zip(motion, motion[1:])) and motion[4] > motion[0]
    assert saturate[1] > saturate[0] and saturate[4] > saturate[3] > saturate[2]
    assert min(_damage(photos, "elastic_transform")) > 0.01


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("chans", [1, 3])
def test_any_size_and_channel_count(photos, name, chans):
    x = photos[:2, :chans, 3:31, 1:29]  # 28x28, like MNIST
    out = corrupt(x, name, 2, _gen())
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    assert torch.equal(out, x) == (chans == 1 and name in COLOR_ONLY)  # only saturate is an identity on gray


def test_applicable_leaves_color_only_out_for_gray():
    assert set(applicable(3)) == set(CORRUPTIONS)
    assert set(applicable(1)) == set(CORRUPTIONS) - COLOR_ONLY


def test_unknown_name_and_bad_severity_are_named(photos):
    with pytest.raises(KeyError, match="'frost'.*gaussian_noise"):
        corrupt(photos, "frost", 1, _gen())
    with pytest.raises(ValueError, match="severity=6"):
        corrupt(photos, "contrast", 6, _gen())
