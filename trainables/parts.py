"""Everything one run trains with, built once from its config: the loop gets parts, never flags.

Optional features arrive as null objects or None (no mixing, no EMA, fixed loss weights), as in timm's train script.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import torch
from torch import Tensor, nn

from trainables.best import BestWeights, NoBest, build_best
from trainables.config import TrainConfig
from trainables.data import DataBundle, build_data
from trainables.defaults import resolve
from trainables.models import build_model
from trainables.monitors import Monitors
from trainables.optim import build_optimizer
from trainables.precision import Precision, build_precision, resolve_device
from trainables.protocol import epoch_split
from trainables.recipe import RandAugmentBatch, build_ema, build_targets_and_loss
from trainables.robustness import build_robustness
from trainables.schedules import build_lr_schedule
from trainables.ses import build_ses
from trainables.uncertainty import UncertaintyWeighting

WEIGHTINGS = ("fixed", "uncertainty")


def fixed_weighting(losses: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
    """Task loss plus the SES penalty as they are (the penalty carries its own lambda)."""
    return sum(losses.values()), {}


@dataclass
class Parts:
    cfg: TrainConfig  # with 'auto' values resolved
    device: torch.device
    data: DataBundle
    model: nn.Module
    optimizer: torch.optim.Optimizer
    precision: Precision
    lr_at: Callable[[int], float]
    ses: Any  # SESRegularizer | NoSES
    mix_fn: Callable | None  # timm Mixup; when set, loss_fn takes soft targets (built together, never apart)
    loss_fn: nn.Module
    weighting: Callable[[Mapping[str, Tensor]], tuple[Tensor, dict[str, Tensor]]]
    ema: Any  # timm ModelEmaV3 | None
    monitors: Monitors
    rob: Any  # RobustnessEval | None: rob/acc on corrupted validation images, every N epochs and at the end
    best: BestWeights | NoBest  # the best epoch's weights by checkpoint.metric (keep=best|both), for the final test
    split: str  # what every epoch is evaluated on: "val", or "test" without a validation split
    steps_per_epoch: int  # optimizer steps


def optimizer_steps_per_epoch(data: DataBundle, accum_steps: int) -> int:
    """Schedules count optimizer steps; micro-batches left over at an epoch's end (< accum_steps) are skipped."""
    if accum_steps < 1 or data.steps_per_epoch() < accum_steps:
        raise ValueError(f"accum_steps={accum_steps}: expected 1..{data.steps_per_epoch()} (micro-batches per epoch)")
    return data.steps_per_epoch() // accum_steps


def _weighting(cfg: TrainConfig, optimizer: torch.optim.Optimizer, device: torch.device):
    if cfg.loss_weighting not in WEIGHTINGS:
        raise ValueError(f"loss_weighting {cfg.loss_weighting!r} is not one of {', '.join(WEIGHTINGS)}")
    if cfg.loss_weighting == "fixed":
        return fixed_weighting
    low, high = cfg.log_var_bounds
    weighting = UncertaintyWeighting(["task", "ses"], min_log_var=low, max_log_var=high).to(device)
    weighting.attach(optimizer)  # its log-variances train with the model, without weight decay
    return weighting


def build_parts(cfg: TrainConfig) -> Parts:
    cfg = resolve(cfg)
    if cfg.num_threads > 0:
        torch.set_num_threads(cfg.num_threads)
    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)
    randaugment = (RandAugmentBatch(cfg.recipe.randaugment_n, cfg.recipe.randaugment_m)
                   if cfg.recipe.randaugment_n > 0 else None)
    data = build_data(cfg.data, cfg.seed, device, extra_augment=randaugment)
    model = build_model(cfg.model, num_classes=data.num_classes, in_chans=data.in_chans, image_size=data.image_size,
                        grad_checkpointing=cfg.grad_checkpointing).to(device)
    ema = build_ema(model, cfg.ema)  # before SES: the EMA copy must not carry SES hooks
    optimizer = build_optimizer(model, cfg.optim)
    steps = optimizer_steps_per_epoch(data, cfg.accum_steps)
    split = epoch_split(cfg)
    mix_fn, loss_fn = build_targets_and_loss(cfg.recipe, data.num_classes,
                                             batch_size=min(cfg.data.batch_size, data.num_train))
    return Parts(
        cfg=cfg, device=device, data=data, model=model, optimizer=optimizer,
        precision=build_precision(cfg.precision, device),
        lr_at=build_lr_schedule(cfg.sched, cfg.optim.lr, steps, cfg.epochs),
        ses=build_ses(model, cfg.ses, total_steps=steps * cfg.epochs),
        mix_fn=mix_fn, loss_fn=loss_fn.to(device), weighting=_weighting(cfg, optimizer, device), ema=ema,
        monitors=Monitors(cfg.monitor, num_classes=data.num_classes, split=split),
        rob=build_robustness(cfg.rob, data, split=split), best=build_best(cfg.checkpoint), split=split,
        steps_per_epoch=steps,
    )
