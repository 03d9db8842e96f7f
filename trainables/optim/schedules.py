"""Learning-rate schedules as pure functions of the optimizer step: linear warmup, then one decay of DECAYS.

`lr_at(step, ...)` holds no state, so a resumed run only needs its step count to continue the schedule exactly.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Callable

from trainables.config import ScheduleConfig


def warmup_factor(step: int, warmup_steps: int, start_factor: float) -> float:
    """Linear ramp start_factor -> 1 over warmup_steps; 1 afterwards (and always when warmup_steps == 0)."""
    if step >= warmup_steps:
        return 1.0
    return start_factor + (1.0 - start_factor) * step / warmup_steps


def cosine(progress: float, base_lr: float, eta_min: float) -> float:
    return eta_min + 0.5 * (base_lr - eta_min) * (1.0 + math.cos(math.pi * progress))


def poly(progress: float, base_lr: float, eta_min: float, power: float) -> float:
    return eta_min + (base_lr - eta_min) * (1.0 - progress) ** power


def restart_cycle(epoch: float, t0: int, t_mult: int) -> tuple[float, int]:
    """(epochs into the current cycle, that cycle's length) at `epoch` epochs since the first cycle began.

    Cycle lengths t0, t0*t_mult, t0*t_mult**2, ...; summed in integers, so a boundary is never missed by a
    rounding error (torch's fractional-epoch path takes a float log for the same).
    """
    if t_mult == 1:
        cycles = math.floor(epoch / t0)
        return epoch - cycles * t0, t0
    start, length = 0, t0
    while epoch >= start + length:
        start, length = start + length, length * t_mult
    return epoch - start, length


def cosine_restarts(epoch: float, base_lr: float, eta_min: float, t0: int, t_mult: int) -> float:
    """SGDR (Loshchilov & Hutter 2017), torch's CosineAnnealingWarmRestarts: cosine to eta_min, then back to base."""
    into, length = restart_cycle(epoch, t0, t_mult)
    return cosine(into / length, base_lr, eta_min)


def multistep(step: int, base_lr: float, milestone_steps: tuple[int, ...], gamma: float) -> float:
    return base_lr * gamma ** sum(step >= m for m in milestone_steps)


DECAYS = ("cosine", "cosine_restarts", "multistep", "poly", "constant")


def lr_at(step: int, *, cfg: ScheduleConfig, base_lr: float, steps_per_epoch: int, epochs: int) -> float:
    """LR for optimizer step `step` (0-based). Decay runs from the end of warmup to the last step."""
    total = max(1, steps_per_epoch * epochs)
    warmup = round(cfg.warmup_epochs * steps_per_epoch)
    if step < warmup:
        return base_lr * warmup_factor(step, warmup, cfg.warmup_start_factor)
    progress = min(1.0, (step - warmup) / max(1, total - 1 - warmup))  # reaches 1 at the last step
    if cfg.name == "cosine":
        return cosine(progress, base_lr, cfg.eta_min)
    if cfg.name == "cosine_restarts":  # cycles in epochs from the end of warmup; the run may end mid-cycle
        return cosine_restarts((step - warmup) / steps_per_epoch, base_lr, cfg.eta_min, cfg.t0, cfg.t_mult)
    if cfg.name == "poly":
        return poly(progress, base_lr, cfg.eta_min, cfg.power)
    if cfg.name == "multistep":
        return multistep(step, base_lr, tuple(m * steps_per_epoch for m in cfg.milestones), cfg.gamma)
    if cfg.name == "constant":
        return base_lr
    raise KeyError(f"unknown sched.name {cfg.name!r}; valid names: {', '.join(DECAYS)}")


def build_lr_schedule(cfg: ScheduleConfig, base_lr: float, steps_per_epoch: int, epochs: int) -> Callable[[int], float]:
    """`lr_at` with everything but the step bound; fails now, not mid-run, on an unknown schedule name."""
    if cfg.name not in DECAYS:
        raise KeyError(f"unknown sched.name {cfg.name!r}; valid names: {', '.join(DECAYS)}")
    return partial(lr_at, cfg=cfg, base_lr=base_lr, steps_per_epoch=steps_per_epoch, epochs=epochs)
