"""The meaningful range of every numeric config field, in one table: `--set ses.beta=1.5` fails before a study.

Each key is a dotted config key; a tuple field's range applies to each of its items. A new numeric field gets a
row here or a place in UNBOUNDED (tests/trainables/test_validate.py keeps the table complete). No range holds inf
or nan, and every count has a ceiling (the MAX_* below).
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
        if not math.isfinite(value):  # inf > 0 would pass `optim.lr > 0`, and then every SES step fails
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def text(self) -> str:
        """'0 < value <= 1', 'value >= 1', ..."""
        low_op, high_op = ("<" if self.low_open else "<="), ("<" if self.high_open else "<=")
        low, high = _shown(self.low), _shown(self.high)
        if self.high == math.inf:
            return f"value {'>' if self.low_open else '>='} {low}"
        if self.low == -math.inf:
            return f"value {high_op} {high}"
        return f"{low} {low_op} value {high_op} {high}"


def _shown(bound: float) -> str:
    """A bound as `--set` takes it back: 100000 and 4294967295, not 1e+05 and 4.29497e+09."""
    return str(int(bound)) if math.isfinite(bound) and bound == int(bound) else f"{bound:g}"


def at_least(low: float, why: str = "") -> Range:
    return Range(low, why=why)


def count(low: int, high: int, why: str = "") -> Range:
    return Range(low, high, why=why)


def above(low: float, why: str = "") -> Range:
    return Range(low, low_open=True, why=why)


UNIT = Range(0, 1)  # a probability or share
UNIT_OPEN_HIGH = Range(0, 1, high_open=True)
BETA = Range(0, 1, low_open=True, why="beta is a fraction of log d")

# Ceilings of the counts: each far above any run this platform trains, so that a slip (`epochs=100000000`, a batch
# size with three zeros too many) is refused before a study plans it rather than found days into a run. A real run
# that needs more raises the ceiling here, in this one place.
MAX_EPOCHS = 100_000  # the catalogue's longest schedule is 600 epochs (ResNet strikes back A1): ~170x that
MAX_STEPS = 10_000_000  # optimizer steps (ses.every_k): 100,000 epochs of 100 steps
MAX_SEED = 2**32 - 1  # numpy's seeds are unsigned 32-bit (studies.assembly.seeds.MAX_SEED, for --seeds)
MAX_BATCH = 1_000_000  # samples per step per worker; the largest published ImageNet batches are ~64k, global
MAX_ACCUM = 10_000  # micro-batches per optimizer step
MAX_SAMPLES = 1_000_000_000  # images (data.limit_train, rob.max_images); ImageNet-21k holds 14 million
MAX_THREADS = 1_024  # torch threads per process; the largest nodes have a few hundred cores
MAX_LOADERS = 256  # DataLoader processes per worker
MAX_PIXELS = 4_096  # data.image_size: one 4096x4096 RGB image is 200 MB as float32
MAX_OPS = 100  # RandAugment ops per image (timm's default policy draws 2 of its ~15, with repetition)
MAX_GROWTH = 100  # sched.t_mult: with t0=1 the third cycle already lasts 10,000 epochs

RANGES: dict[str, Range] = {
    "epochs": count(1, MAX_EPOCHS),
    "seed": count(0, MAX_SEED, "numpy's seeds are 32-bit"),
    "num_threads": count(0, MAX_THREADS, "0 leaves torch's default"),
    "accum_steps": count(1, MAX_ACCUM),
    "task.dice_weight": at_least(0, "0 = cross-entropy only"),
    "data.val_fraction": Range(0, 1, high_open=True, why="0 = no validation split"),
    "data.split_seed": count(0, MAX_SEED, "numpy's seeds are 32-bit"),
    "data.batch_size": count(1, MAX_BATCH),
    "data.eval_batch_size": count(1, MAX_BATCH),
    "data.num_workers": count(0, MAX_LOADERS),
    "data.limit_train": count(0, MAX_SAMPLES, "0 = all"),
    "data.image_size": count(0, MAX_PIXELS, "pixels per side; 0 = the dataset's own size"),
    "model.drop_rate": UNIT_OPEN_HIGH,
    "model.quant_bits": Range(2, 8, why="bits of model.fake_quant's grids: 1 has no symmetric one, 8 is int8"),
    "optim.lr": above(0),
    "optim.momentum": UNIT_OPEN_HIGH,
    "optim.weight_decay": at_least(0),
    "optim.grad_clip": at_least(-1, "-1 = auto, 0 = off"),
    "sched.warmup_epochs": Range(0, MAX_EPOCHS),
    "sched.warmup_start_factor": UNIT,
    "sched.eta_min": at_least(0),
    "sched.milestones": count(1, MAX_EPOCHS, "epochs"),
    "sched.gamma": Range(0, 1, low_open=True),
    "sched.power": above(0),
    "sched.t0": count(1, MAX_EPOCHS, "epochs of the first cycle"),
    "sched.t_mult": count(1, MAX_GROWTH, "1 = cycles of equal length"),
    "ses.lam": at_least(0),
    "ses.beta": BETA,
    "ses.beta_start": BETA,
    "ses.beta_end": BETA,
    "ses.beta_steps": BETA,
    "ses.every_k": count(1, MAX_STEPS, "optimizer steps"),
    "recipe.mixup_alpha": at_least(0, "0 = off"),
    "recipe.cutmix_alpha": at_least(0, "0 = off"),
    "recipe.mix_prob": UNIT,
    "recipe.switch_prob": UNIT,
    "recipe.label_smoothing": UNIT_OPEN_HIGH,
    "recipe.randaugment_n": count(0, MAX_OPS, "0 = off"),
    "recipe.randaugment_m": Range(0, 30, why="timm's scale: m/10 of each op's maximum"),
    "ema.decay": Range(0, 1, low_open=True, high_open=True),
    "rob.every": count(0, MAX_EPOCHS, "0 = at the end only"),
    "rob.severities": Range(1, 5, why="CIFAR-10-C severities"),
    "rob.max_images": count(0, MAX_SAMPLES, "0 = all"),
    "monitor.patience": count(0, MAX_EPOCHS, "0 = off"),
    "monitor.min_delta": at_least(0),
    "monitor.collapse_epochs": count(0, MAX_EPOCHS, "0 = off"),
    "monitor.collapse_ratio": UNIT,
    "monitor.memory_growth_mb": at_least(0, "0 = off"),
}
# Numeric fields whose checks are not a plain range (validate.py checks them with their own message; --set refuses
# inf and nan for them as for every float: trainables.config.overrides).
UNBOUNDED = frozenset({"log_var_bounds"})
