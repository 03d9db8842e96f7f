"""Optimizers by name, with timm's parameter grouping: no weight decay on normalization and bias parameters."""

from __future__ import annotations

import torch
from timm.optim import param_groups_weight_decay
from torch import nn

from trainables.config import OptimConfig


def _sgd(groups, cfg: OptimConfig) -> torch.optim.Optimizer:
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov)


def _adamw(groups, cfg: OptimConfig) -> torch.optim.Optimizer:
    return torch.optim.AdamW(groups, lr=cfg.lr)


OPTIMIZERS = {"sgd": _sgd, "adamw": _adamw}


def build_optimizer(model: nn.Module, cfg: OptimConfig) -> torch.optim.Optimizer:
    """Two groups: decay on weights of conv/linear layers, none on 1-D parameters (norm scales/shifts, biases)."""
    try:
        make = OPTIMIZERS[cfg.name]
    except KeyError:
        raise KeyError(f"unknown optim.name {cfg.name!r}; valid names: {', '.join(OPTIMIZERS)}") from None
    return make(param_groups_weight_decay(model, cfg.weight_decay), cfg)
