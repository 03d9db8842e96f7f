"""Optimizers by name; weight decay only on conv/linear weights, never on norm or bias parameters."""

import pytest
import torch

from trainables.config import ModelConfig, OptimConfig
from trainables.models import build_model
from trainables.optim import OPTIMIZERS, build_optimizer


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
