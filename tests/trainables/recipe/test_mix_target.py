"""recipe.mix_target=hard, seed 000's bug kept on purpose: the same mixed images, trained against their own labels."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from timm.loss import SoftTargetCrossEntropy
from torch import nn

from trainables.config import RecipeConfig, TrainConfig
from trainables.config.overrides import ConfigError, apply_overrides
from trainables.recipe import mixing
from trainables.validate import validate

K = 4  # classes


def build(**fields):
    return mixing.build_targets_and_loss(RecipeConfig(mixup_alpha=0.2, cutmix_alpha=1.0, **fields), K, batch_size=8)


def mixed(mix_fn, seed=0):
    np.random.seed(seed)  # timm's Mixup draws lambda and the mixup/cutmix switch from numpy's global RNG
    x = torch.rand(8, 1, 6, 6, generator=torch.Generator().manual_seed(seed))
    y = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])  # image i is mixed with image 7-i: another class
    return x, y, *mix_fn(x.clone(), y)


def test_hard_mixes_the_same_images_but_trains_against_the_unmixed_labels_with_plain_ce():
    soft, hard = build(), build(mix_target="hard", label_smoothing=0.1)
    x, y, x_soft, target_soft = mixed(soft.mix_fn)
    _, _, x_hard, target_hard = mixed(hard.mix_fn)
    assert not torch.equal(x_hard, x)  # the images are mixed ...
    torch.testing.assert_close(x_hard, x_soft)  # ... with the same draws as the soft recipe's
    assert torch.equal(target_hard, y)  # ... but each keeps its own class as the target
    assert target_soft.shape == (8, K)
    assert type(hard.loss_fn) is nn.CrossEntropyLoss and hard.loss_fn.label_smoothing == 0.1
    assert isinstance(soft.loss_fn, SoftTargetCrossEntropy)


def test_hard_and_soft_give_different_losses_on_the_same_mixed_batch():
    logits = torch.randn(8, K, generator=torch.Generator().manual_seed(1))
    soft, hard = build(), build(mix_target="hard")
    *_, target_soft = mixed(soft.mix_fn, seed=0)
    *_, target_hard = mixed(hard.mix_fn, seed=0)
    assert target_soft.max() < 0.7  # this draw mixes two classes well (lam ~0.62)
    lam_weighted = soft.loss_fn(logits, target_soft)
    own_label = hard.loss_fn(logits, target_hard)
    torch.testing.assert_close(own_label, F.cross_entropy(logits, target_hard))
    assert not torch.isclose(lam_weighted, own_label)


def test_mix_target_is_a_config_key_validated_where_it_can_be_wrong():
    on = {"recipe.mixup_alpha": "0.2"}
    validate(apply_overrides(TrainConfig(), {**on, "recipe.mix_target": "hard"}), check_data=False)
    with pytest.raises(ConfigError, match=r"recipe.mix_target: 'argmax' is not one of soft, hard"):
        validate(apply_overrides(TrainConfig(), {**on, "recipe.mix_target": "argmax"}), check_data=False)
    with pytest.raises(ConfigError, match=r"mix_target='hard'.*nothing is mixed"):
        validate(apply_overrides(TrainConfig(), {"recipe.mix_target": "hard"}), check_data=False)
