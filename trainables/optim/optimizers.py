"""Optimizers by name, with timm's parameter grouping: weight decay on conv/linear weights, and on normalization
and bias parameters only when `optim.decay_norm_bias` asks for it (seed 000's ablation).
"""

from __future__ import annotations

import torch
from torch import nn

from trainables.config import OptimConfig


def _sgd(groups, cfg: OptimConfig) -> torch.optim.Optimizer:
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov)


def _adamw(groups, cfg: OptimConfig) -> torch.optim.Optimizer:
    return torch.optim.AdamW(groups, lr=cfg.lr)


OPTIMIZERS = {"sgd": _sgd, "adamw": _adamw}


def param_groups(model: nn.Module, cfg: OptimConfig) -> list[dict]:
    """timm's two groups: 1-D parameters (norm scales/shifts, biases), then the rest (conv/linear weights).

    The 1-D group gets no decay unless `cfg.decay_norm_bias`; it stays its own group either way, so optimizer
    state saved under one setting loads under the other.
    """
    from timm.optim import (
        param_groups_weight_decay,  # timm (with torchvision) takes ~1.5 s to import: only a run that uses it pays
    )

    groups = param_groups_weight_decay(model, cfg.weight_decay)
    if cfg.decay_norm_bias:
        groups = [{**group, "weight_decay": cfg.weight_decay} for group in groups]
    return groups


def build_optimizer(model: nn.Module, cfg: OptimConfig) -> torch.optim.Optimizer:
    """`cfg.name` over `param_groups(model, cfg)`; a KeyError lists the valid names."""
    try:
        make = OPTIMIZERS[cfg.name]
    except KeyError:
        raise KeyError(f"unknown optim.name {cfg.name!r}; valid names: {', '.join(OPTIMIZERS)}") from None
    return make(param_groups(model, cfg), cfg)
