"""The meaningful range of every numeric config field, in one table: `--set ses.beta=1.5` fails before a study.

Each key is a dotted config key; a tuple field's range applies to each of its items. A new numeric field gets a
row here or a place in UNBOUNDED (tests/trainables/test_validate.py keeps the table complete).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Range:
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False  # low itself is excluded
    high_open: bool = False
    why: str = ""  # what the bounds mean, shown in the error

    def holds(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def text(self) -> str:
        """'0 < value <= 1', 'value >= 1', ..."""
        low_op, high_op = ("<" if self.low_open else "<="), ("<" if self.high_open else "<=")
        if self.high == math.inf:
            return f"value {'>' if self.low_open else '>='} {self.low:g}"
        if self.low == -math.inf:
            return f"value {high_op} {self.high:g}"
        return f"{self.low:g} {low_op} value {high_op} {self.high:g}"


def at_least(low: float, why: str = "") -> Range:
    return Range(low, why=why)


def above(low: float, why: str = "") -> Range:
    return Range(low, low_open=True, why=why)


UNIT = Range(0, 1)  # a probability or share
UNIT_OPEN_HIGH = Range(0, 1, high_open=True)
BETA = Range(0, 1, low_open=True, why="beta is a fraction of log d")

RANGES: dict[str, Range] = {
    "epochs": at_least(1),
    "seed": at_least(0),
    "num_threads": at_least(0, "0 leaves torch's default"),
    "accum_steps": at_least(1),
    "task.dice_weight": at_least(0, "0 = cross-entropy only"),
    "data.val_fraction": Range(0, 1, high_open=True, why="0 = no validation split"),
    "data.split_seed": at_least(0),
    "data.batch_size": at_least(1),
    "data.eval_batch_size": at_least(1),
    "data.num_workers": at_least(0),
    "data.limit_train": at_least(0, "0 = all"),
    "model.drop_rate": UNIT_OPEN_HIGH,
    "model.quant_bits": Range(2, 8, why="bits of model.fake_quant's grids: 1 has no symmetric one, 8 is int8"),
    "optim.lr": above(0),
    "optim.momentum": UNIT_OPEN_HIGH,
    "optim.weight_decay": at_least(0),
    "optim.grad_clip": at_least(-1, "-1 = auto, 0 = off"),
    "sched.warmup_epochs": at_least(0),
    "sched.warmup_start_factor": UNIT,
    "sched.eta_min": at_least(0),
    "sched.milestones": at_least(1, "epochs"),
    "sched.gamma": Range(0, 1, low_open=True),
    "sched.power": above(0),
    "sched.t0": at_least(1, "epochs of the first cycle"),
    "sched.t_mult": at_least(1, "1 = cycles of equal length"),
    "ses.lam": at_least(0),
    "ses.beta": BETA,
    "ses.beta_start": BETA,
    "ses.beta_end": BETA,
    "ses.beta_steps": BETA,
    "ses.every_k": at_least(1),
    "recipe.mixup_alpha": at_least(0, "0 = off"),
    "recipe.cutmix_alpha": at_least(0, "0 = off"),
    "recipe.mix_prob": UNIT,
    "recipe.switch_prob": UNIT,
    "recipe.label_smoothing": UNIT_OPEN_HIGH,
    "recipe.randaugment_n": at_least(0, "0 = off"),
    "recipe.randaugment_m": Range(0, 30, why="timm's scale: m/10 of each op's maximum"),
    "ema.decay": Range(0, 1, low_open=True, high_open=True),
    "rob.every": at_least(0, "0 = at the end only"),
    "rob.severities": Range(1, 5, why="CIFAR-10-C severities"),
    "rob.max_images": at_least(0, "0 = all"),
    "monitor.patience": at_least(0, "0 = off"),
    "monitor.min_delta": at_least(0),
    "monitor.collapse_epochs": at_least(0, "0 = off"),
    "monitor.collapse_ratio": UNIT,
    "monitor.memory_growth_mb": at_least(0, "0 = off"),
}
# Numeric fields whose checks are not a plain range (validate.py checks them with their own message).
UNBOUNDED = frozenset({"data.image_size", "log_var_bounds"})
