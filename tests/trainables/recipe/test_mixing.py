"""Mixing and the loss come from one builder: soft targets whenever images are mixed, plain CE otherwise."""

import itertools

import pytest
import torch
from timm.loss import SoftTargetCrossEntropy
from torch import nn

from trainables.config import RecipeConfig
from trainables.recipe import mixing

K = 5  # classes


def build(batch_size=8, **fields):
    return mixing.build_targets_and_loss(RecipeConfig(**fields), K, batch_size=batch_size)


def test_off_gives_plain_cross_entropy_with_smoothing():
    mix_fn, loss_fn = build(label_smoothing=0.1)
    assert mix_fn is None
    assert type(loss_fn) is nn.CrossEntropyLoss and loss_fn.label_smoothing == 0.1


@pytest.mark.parametrize("alphas", [(0.8, 0.0), (0.0, 1.0), (0.8, 1.0)])
def test_mixing_gives_soft_targets_and_keeps_hard_labels(alphas):
    mix_fn, loss_fn = build(mixup_alpha=alphas[0], cutmix_alpha=alphas[1], label_smoothing=0.1)
    assert isinstance(loss_fn, SoftTargetCrossEntropy)
    x, y = torch.rand(8, 3, 8, 8), torch.arange(8) % K
    y_before = y.clone()
    x_mixed, target = mix_fn(x.clone(), y)
    assert x_mixed.shape == x.shape and target.shape == (8, K)
    torch.testing.assert_close(target.sum(1), torch.ones(8))
    assert torch.equal(y, y_before)  # train/acc is measured against these hard labels
    assert torch.isfinite(loss_fn(torch.randn(8, K), target))


def test_mixing_cannot_be_paired_with_a_hard_label_loss():
    grid = itertools.product([0.0, 0.2], [0.0, 1.0], [0.0, 0.5, 1.0], [0.0, 0.1])
    for mixup, cutmix, prob, smoothing in grid:
        mix_fn, loss_fn = build(mixup_alpha=mixup, cutmix_alpha=cutmix, mix_prob=prob, label_smoothing=smoothing)
        assert (mix_fn is None) == isinstance(loss_fn, nn.CrossEntropyLoss), (mixup, cutmix, prob, smoothing)
        assert (mix_fn is None) != isinstance(loss_fn, SoftTargetCrossEntropy)
    # The builder is the only way in: the module exports no separate mixer or loss factory.
    assert [n for n in mixing.__all__ if callable(getattr(mixing, n)) and n.startswith("build")] == [
        "build_targets_and_loss"]


def test_label_smoothing_means_the_same_with_and_without_mixing():
    logits, y = torch.randn(8, K), torch.arange(8) % K
    _, plain = build(label_smoothing=0.2)
    mix_fn, soft = build(mixup_alpha=0.8, mix_prob=0.0, label_smoothing=0.2)  # never mixes, still smooths
    _, target = mix_fn(torch.rand(8, 3, 4, 4), y)
    torch.testing.assert_close(soft(logits, target), plain(logits, y))


def test_odd_batch_is_refused_only_when_mixing():
    with pytest.raises(ValueError, match="batch_size=7"):
        build(batch_size=7, cutmix_alpha=1.0)
    assert build(batch_size=7).mix_fn is None


@pytest.mark.parametrize("fields", [{"mixup_alpha": -1.0}, {"mix_prob": 1.5}, {"label_smoothing": 1.0}])
def test_invalid_values_are_named(fields):
    with pytest.raises(ValueError, match=next(iter(fields))):
        build(**fields)
