"""SES beta schedules: pure functions (step, total_steps, cfg) -> beta, the target's fraction of log(d).

`beta_at` is the entry point; `SCHEDULES` is the {name: fn} table it reads.
"""

from __future__ import annotations

import math
from typing import Callable

from trainables.config import SESConfig

BetaFn = Callable[[int, int, SESConfig], float]


def progress(step: int, total_steps: int) -> float:
    """Training progress in [0, 1]; the last optimizer step (total_steps - 1, 0-based) gets exactly 1."""
    if total_steps < 1:
        raise ValueError(f"total_steps must be >= 1, but got {total_steps=}.")
    return min(max(step / max(total_steps - 1, 1), 0.0), 1.0)


def fixed(step: int, total_steps: int, cfg: SESConfig) -> float:
    return cfg.beta


def linear(step: int, total_steps: int, cfg: SESConfig) -> float:
    return cfg.beta_start + (cfg.beta_end - cfg.beta_start) * progress(step, total_steps)


def cosine(step: int, total_steps: int, cfg: SESConfig) -> float:
    """Half-cosine from beta_start to beta_end: flat at both ends, fastest change mid-training."""
    weight = 0.5 * (1.0 + math.cos(math.pi * progress(step, total_steps)))  # 1 -> 0
    return cfg.beta_end + (cfg.beta_start - cfg.beta_end) * weight


def reverse(step: int, total_steps: int, cfg: SESConfig) -> float:
    """Linear from beta_end down to beta_start, so defaults 0.3/0.9 give the seed study's "Reverse 0.9->0.3"."""
    return cfg.beta_end + (cfg.beta_start - cfg.beta_end) * progress(step, total_steps)


def stepwise(step: int, total_steps: int, cfg: SESConfig) -> float:
    """Piecewise constant: each value of cfg.beta_steps holds for an equal share of training."""
    values = cfg.beta_steps
    if not values:
        raise ValueError("ses.beta_steps must hold at least one value for beta_schedule=step")
    return values[min(int(progress(step, total_steps) * len(values)), len(values) - 1)]


SCHEDULES: dict[str, BetaFn] = {
    "fixed": fixed,
    "linear": linear,
    "cosine": cosine,
    "reverse": reverse,
    "step": stepwise,
}


def beta_at(step: int, total_steps: int, cfg: SESConfig) -> float:
    """Beta at a 0-based optimizer step under cfg.beta_schedule."""
    try:
        fn = SCHEDULES[cfg.beta_schedule]
    except KeyError:
        raise KeyError(
            f"unknown ses.beta_schedule={cfg.beta_schedule!r}; valid: {', '.join(SCHEDULES)}"
        ) from None
    return fn(step, total_steps, cfg)
