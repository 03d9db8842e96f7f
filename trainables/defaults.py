"""Defaults that depend on other settings, resolved once so the logged config shows the values actually used."""

from __future__ import annotations

from dataclasses import replace

from trainables.config import TrainConfig
from trainables.models.by_name import is_vit
from trainables.protocol import when_tested
from trainables.tasks import build_task

VIT_ADAMW_CLIP = 1.0  # seed 001 bug 12: ViT + AdamW diverges without clipping at 1.0


def resolve(cfg: TrainConfig) -> TrainConfig:
    """`cfg` with every 'auto' value replaced by its concrete choice."""
    if cfg.optim.grad_clip < 0:
        clip = VIT_ADAMW_CLIP if is_vit(cfg.model.name) and cfg.optim.name == "adamw" else 0.0
        cfg = replace(cfg, optim=replace(cfg.optim, grad_clip=clip))
    if cfg.eval.test == "auto":
        cfg = replace(cfg, eval=replace(cfg.eval, test=when_tested(cfg)))
    if cfg.checkpoint.metric == "auto" or cfg.checkpoint.mode == "auto":
        lead = build_task(cfg.task).lead
        metric = f"val/{lead.name}" if cfg.checkpoint.metric == "auto" else cfg.checkpoint.metric
        mode = (lead.direction or "max") if cfg.checkpoint.mode == "auto" else cfg.checkpoint.mode
        cfg = replace(cfg, checkpoint=replace(cfg.checkpoint, metric=metric, mode=mode))
    return cfg
