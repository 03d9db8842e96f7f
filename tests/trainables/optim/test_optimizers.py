"""Optimizers by name; weight decay on conv/linear weights, and on norm/bias parameters only when switched on."""

import pytest
import torch

from trainables.config import ModelConfig, OptimConfig, TrainConfig
from trainables.config.overrides import apply_overrides
from trainables.models.by_name import build_model
from trainables.optim.optimizers import OPTIMIZERS, build_optimizer


def _groups_by_decay(optimizer):
    return {group["weight_decay"]: {id(p) for p in group["params"]} for group in optimizer.param_groups}


@pytest.mark.parametrize("name", ["small_cnn", "resnet18"])
def test_norm_and_bias_params_are_not_decayed(name):
    model = build_model(ModelConfig(name=name), num_classes=10, in_chans=3, image_size=32)
    optimizer = build_optimizer(model, OptimConfig(weight_decay=5e-4))
    groups = _groups_by_decay(optimizer)
    assert set(groups) == {5e-4, 0.0}
    modules = {n: m for n, m in model.named_modules()}
    decayed, not_decayed = set(), set()
    for pname, param in model.named_parameters():
        owner, _, attr = pname.rpartition(".")
        is_layer_weight = attr == "weight" and isinstance(modules[owner], (torch.nn.Conv2d, torch.nn.Linear))
        (decayed if is_layer_weight else not_decayed).add(id(param))
    assert groups[5e-4] == decayed
    assert groups[0.0] == not_decayed
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in modules.values())  # norms really were checked


def test_sgd_gets_lr_momentum_nesterov():
    model = torch.nn.Linear(4, 2)
    optimizer = build_optimizer(model, OptimConfig(name="sgd", lr=0.03, momentum=0.8, nesterov=True))
    assert type(optimizer) is torch.optim.SGD
    for group in optimizer.param_groups:
        assert (group["lr"], group["momentum"], group["nesterov"]) == (0.03, 0.8, True)


def test_adamw_gets_lr_and_group_weight_decay():
    model = torch.nn.Linear(4, 2)
    optimizer = build_optimizer(model, OptimConfig(name="adamw", lr=1e-3, weight_decay=0.05))
    assert type(optimizer) is torch.optim.AdamW
    assert all(group["lr"] == 1e-3 for group in optimizer.param_groups)
    assert set(_groups_by_decay(optimizer)) == {0.05, 0.0}


def test_unknown_optimizer_lists_valid_names():
    with pytest.raises(KeyError) as err:
        build_optimizer(torch.nn.Linear(4, 2), OptimConfig(name="lamb"))
    message = str(err.value)
    assert "lamb" in message
    assert all(name in message for name in OPTIMIZERS)


def _one_d_and_rest(model):
    one_d = {id(p) for n, p in model.named_parameters() if p.ndim <= 1 or n.endswith(".bias")}
    return one_d, {id(p) for p in model.parameters()} - one_d


@pytest.mark.parametrize("decay_norm_bias", [False, True])
def test_decay_norm_bias_switch_decides_the_1d_groups_decay(decay_norm_bias):
    model = build_model(ModelConfig(name="resnet18"), num_classes=10, in_chans=3, image_size=32)
    optimizer = build_optimizer(model, OptimConfig(weight_decay=5e-4, decay_norm_bias=decay_norm_bias))
    one_d, rest = _one_d_and_rest(model)
    assert one_d and rest
    groups = [({id(p) for p in g["params"]}, g["weight_decay"]) for g in optimizer.param_groups]
    # Two groups either way, in the same order: optimizer state saved under one setting loads under the other.
    assert groups == [(one_d, 5e-4 if decay_norm_bias else 0.0), (rest, 5e-4)]


def test_decay_norm_bias_really_shrinks_a_bn_scale():
    model = torch.nn.Sequential(torch.nn.BatchNorm1d(3))
    for decay, expected in ((False, 1.0), (True, 1.0 - 0.1 * 0.5)):
        optimizer = build_optimizer(model, OptimConfig(lr=0.1, momentum=0.0, weight_decay=0.5, decay_norm_bias=decay))
        with torch.no_grad():
            model[0].weight.fill_(1.0)
        model[0].weight.grad = torch.zeros(3)
        optimizer.step()
        assert model[0].weight.detach() == pytest.approx(torch.full((3,), expected))


def test_decay_norm_bias_is_off_by_default_and_reachable_from_set():
    assert OptimConfig().decay_norm_bias is False
    assert apply_overrides(TrainConfig(), {"optim.decay_norm_bias": "true"}).optim.decay_norm_bias is True


def test_spectral_norm_weights_are_decayed_as_weights():
    model = build_model(ModelConfig(name="small_cnn", spectral_norm=True), num_classes=10, in_chans=3, image_size=32)
    decayed = {id(p) for g in build_optimizer(model, OptimConfig()).param_groups if g["weight_decay"] > 0
               for p in g["params"]}
    originals = {id(p) for n, p in model.named_parameters() if n.endswith("parametrizations.weight.original")}
    assert originals and originals <= decayed
