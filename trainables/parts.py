"""Everything one run trains with, built once from its config: the loop gets parts, never flags.

Optional features arrive as null objects or None (no mixing, no EMA, fixed loss weights), as in timm's train script.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

import torch
from torch import Tensor, nn

from trainables import distributed
from trainables.checkpointing.best import BestWeights, NoBest, build_best
from trainables.config import TrainConfig
from trainables.data import DataBundle, Shard, build_data
from trainables.defaults import resolve
from trainables.optim.grad_step import GradStep
from trainables.optim.optimizers import build_optimizer
from trainables.optim.precision import Precision, build_precision, resolve_device
from trainables.optim.schedules import build_lr_schedule
from trainables.optim.uncertainty import FixedWeighting, TaskLossWeighting
from trainables.protocol import epoch_split
from trainables.recipe import RandAugmentBatch, build_ema
from trainables.robustness import build_robustness
from trainables.ses import build_ses
from trainables.tasks import Task, build_task
from trainables.tasks.base import LossOut
from trainables.validate import validate
from trainables.watch.monitors import Monitors


@dataclass
class Parts:
    cfg: TrainConfig  # with 'auto' values resolved
    task: Task  # what is trained and how it is scored: the model's output, loss and metrics
    device: torch.device
    data: DataBundle
    model: nn.Module  # what is checkpointed, evaluated and averaged into the EMA
    train_model: nn.Module  # what the training forward calls: `model`, or its DDP wrapper with several workers
    optimizer: torch.optim.Optimizer
    precision: Precision
    grad_step: GradStep  # backward per micro-batch; unscale, clip, step and scaler update per optimizer step
    lr_at: Callable[[int], float]
    ses: Any  # SESRegularizer | NoSES
    mix_fn: Callable | None  # timm Mixup; when set, criterion takes soft targets (built together, never apart)
    criterion: Callable[[Tensor, Tensor], LossOut]  # (output, target) -> {"loss": ..., "loss_<part>": ...}
    weighting: FixedWeighting | TaskLossWeighting  # (task losses, SES penalty) -> (total, metrics); state_dict()
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


def _weighting(cfg: TrainConfig, optimizer: torch.optim.Optimizer,
               device: torch.device) -> FixedWeighting | TaskLossWeighting:
    low, high = cfg.log_var_bounds
    # uncertainty: every term the task returns (and the penalty when SES is on), named by the first step's losses
    build = {"fixed": FixedWeighting,
             "uncertainty": partial(TaskLossWeighting, ses=cfg.ses.enabled, min_log_var=low, max_log_var=high)}
    weighting = build[cfg.loss_weighting]().to(device)
    weighting.attach(optimizer)  # learned log-variances train with the model, without weight decay
    distributed.average_gradients(weighting, optimizer)  # DDP averages the model's gradients only
    return weighting


def build_parts(cfg: TrainConfig) -> Parts:
    """The parts of `cfg`'s run; the config is validated here, once (trainables.validate), so no builder re-checks."""
    validate(cfg, check_data=False)  # the data's files: their readers say what is wrong with them
    cfg = resolve(cfg)
    if cfg.num_threads > 0:
        torch.set_num_threads(cfg.num_threads)
    device = distributed.local_device(resolve_device(cfg.device))
    task = build_task(cfg.task)
    torch.manual_seed(cfg.seed)
    randaugment = (RandAugmentBatch(cfg.recipe.randaugment_n, cfg.recipe.randaugment_m)
                   if cfg.recipe.randaugment_n > 0 else None)
    data = build_data(cfg.data, cfg.seed, device, extra_augment=randaugment,
                      shard=Shard(distributed.rank(), distributed.world()), task=task)
    model = task.build_model(cfg.model, data, grad_checkpointing=cfg.grad_checkpointing).to(device)
    model = distributed.sync_batchnorm(model, cfg.dist.sync_bn, device)  # replaces modules: before EMA, optimizer
    ema = build_ema(model, cfg.ema)  # before SES: the EMA copy must not carry SES hooks
    optimizer = build_optimizer(model, cfg.optim)
    steps = optimizer_steps_per_epoch(data, cfg.accum_steps)
    split = epoch_split(cfg)
    mix_fn, criterion = task.train_targets(cfg, data, batch_size=min(cfg.data.batch_size, data.num_train))
    lead = task.lead
    precision = build_precision(cfg.precision, device)
    return Parts(
        cfg=cfg, task=task, device=device, data=data, model=model,
        train_model=distributed.data_parallel(model, device), optimizer=optimizer, precision=precision,
        grad_step=GradStep(precision.scaler, clip_grad=cfg.optim.grad_clip),
        lr_at=build_lr_schedule(cfg.sched, cfg.optim.lr, steps, cfg.epochs),
        ses=build_ses(model, cfg.ses, total_steps=steps * cfg.epochs),
        mix_fn=mix_fn, criterion=criterion, weighting=_weighting(cfg, optimizer, device), ema=ema,
        monitors=Monitors(cfg.monitor, num_classes=data.num_classes, split=split, lead=lead.name,
                          higher_is_better=lead.direction == "max", chance=task.chance(data)),
        rob=build_robustness(cfg.rob, data, split=split), best=build_best(cfg.checkpoint), split=split,
        steps_per_epoch=steps,
    )
