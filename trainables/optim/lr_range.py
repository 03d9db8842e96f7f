"""LR range test (Smith 2015; fastai's lr_find): sweep the LR exponentially over a few hundred steps on a fresh
model and suggest one from the smoothed loss. `python -m trainables.optim.lr_range --set model.name=small_cnn ...`.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from trainables.checkpointing.warm_start import apply_init
from trainables.config import TrainConfig
from trainables.config.overrides import ConfigError, apply_overrides, parse_set_args
from trainables.loop import build_parts
from trainables.validate import validate

SMOOTHING = 0.98  # fastai's EMA factor for the loss, bias-corrected so early points are not pulled toward 0
DIVERGE = 4.0  # the loss has exploded once the smoothed loss exceeds this multiple of the best one (fastai)


@dataclass(frozen=True)
class RangeResult:
    lrs: list[float]  # LR used at each step, up to and including the step where the loss exploded
    losses: list[float]  # the batch loss at that step (before its update)
    smoothed: list[float]
    suggestion: float  # steepest descent of the smoothed loss against log(LR)
    min_loss_over_10: float  # the other common rule: the LR of the lowest smoothed loss, divided by 10
    stopped_early: bool  # the loss exploded before the sweep reached end_lr


def sweep_lr(step: int, steps: int, start_lr: float, end_lr: float) -> float:
    """Exponential from start_lr (step 0) to end_lr (step steps-1): equal steps in log(LR)."""
    return start_lr * (end_lr / start_lr) ** (step / max(1, steps - 1))


def _until_explosion(lrs: Sequence[float], losses: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """The curve up to (not including) the first non-finite loss or one above DIVERGE x the lowest so far."""
    lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    best, end = math.inf, len(losses)
    for i, loss in enumerate(losses):
        if not math.isfinite(loss) or loss > DIVERGE * best:
            end = i
            break
        best = min(best, loss)
    return lrs[:end], losses[:end]


def suggest_lr(lrs: Sequence[float], losses: Sequence[float]) -> float:
    """The LR where `losses` (pass the smoothed curve) falls fastest per unit log(LR), before it explodes.

    That is where training still makes the most progress per step and is not yet unstable; the min-loss LR sits
    at the edge of instability. A curve that never falls gives the smallest swept LR.
    """
    lrs_, losses_ = _until_explosion(lrs, losses)
    if len(lrs_) < 3:
        return float(lrs[0])
    slope = np.gradient(losses_, np.log(lrs_))
    i = int(np.argmin(slope))
    return float(lrs_[i]) if slope[i] < 0 else float(lrs_[0])


def min_loss_over_10(lrs: Sequence[float], losses: Sequence[float]) -> float:
    lrs_, losses_ = _until_explosion(lrs, losses)
    return float(lrs_[int(np.argmin(losses_))]) / 10 if len(lrs_) else float(lrs[0]) / 10


def run_range_test(cfg: TrainConfig, *, steps: int = 200, start_lr: float = 1e-5, end_lr: float = 10.0,
                   smoothing: float = SMOOTHING) -> RangeResult:
    """Sweep on a fresh model, data and optimizer built from `cfg` (its LR schedule is not used), starting from
    `cfg.init.checkpoint` if set: seed 000 chose the LR of its restart by a range test on the epoch-124 weights.

    Fits the task's training loss on unmixed batches: no mixing, no SES penalty, one micro-batch per step. Stops
    when the loss explodes.
    """
    check_sweep(steps, start_lr, end_lr)
    # Unmixed batches need the unmixed loss: built from a config with mixing on, the criterion would be soft-target
    # CE, which cannot take class labels (a crash with recipe.mixup_alpha > 0 before this).
    p = build_parts(apply_overrides(cfg, {"recipe.mixup_alpha": 0.0, "recipe.cutmix_alpha": 0.0,
                                          "recipe.mix_target": "soft"}))
    apply_init(cfg.init, p.model, p.optimizer)
    p.ses.close()
    batches = itertools.chain.from_iterable(p.data.train_batches(epoch) for epoch in itertools.count())
    p.model.train()
    lrs, losses, smoothed, avg, best, stopped = [], [], [], 0.0, math.inf, False
    for step, (x, y) in zip(range(steps), batches):
        lr = sweep_lr(step, steps, start_lr, end_lr)
        for group in p.optimizer.param_groups:
            group["lr"] = lr
        with p.precision.autocast():
            loss = p.criterion(p.task.forward(p.model, x), y)["loss"]
        p.optimizer.zero_grad(set_to_none=True)
        p.grad_step(loss, p.optimizer, p.model.parameters())  # clipping as the run would: 'auto' resolved
        value = loss.item()  # one sync per step: the stopping rule needs it
        avg = smoothing * avg + (1 - smoothing) * value
        lrs.append(lr)
        losses.append(value)
        smoothed.append(avg / (1 - smoothing ** (step + 1)))
        if not math.isfinite(smoothed[-1]) or smoothed[-1] > DIVERGE * best:
            stopped = True
            break
        best = min(best, smoothed[-1])
    return RangeResult(lrs, losses, smoothed, suggest_lr(lrs, smoothed), min_loss_over_10(lrs, smoothed), stopped)


def check_sweep(steps: int, start_lr: float, end_lr: float) -> None:
    if steps < 3:
        raise ConfigError(f"--steps: expected at least 3, got {steps}")
    if not 0 < start_lr < end_lr:
        raise ConfigError(f"`0 < start_lr < end_lr` must hold, but got ({start_lr=}, {end_lr=}).")


def write_csv(result: RangeResult, path: Path) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["lr", "loss", "smoothed"])
        writer.writerows(zip(result.lrs, result.losses, result.smoothed))


def plot(result: RangeResult, path: Path) -> None:
    from matplotlib.figure import Figure  # no pyplot: the Agg canvas, no GUI backend or global state

    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    ax.semilogx(result.lrs, result.losses, color="0.75", lw=0.8, label="loss")
    ax.semilogx(result.lrs, result.smoothed, color="C0", label="smoothed")
    ax.axvline(result.suggestion, color="C3", ls="--", label=f"steepest descent {result.suggestion:.2g}")
    ax.axvline(result.min_loss_over_10, color="C2", ls=":", label=f"min-loss / 10 {result.min_loss_over_10:.2g}")
    low = [v for v in (*result.losses, *result.smoothed) if math.isfinite(v)]
    high = [v for v in result.smoothed[:-1] if math.isfinite(v)] if result.stopped_early else result.smoothed
    if low and high:  # the exploding tail would squash the informative part of the curve
        ax.set_ylim(0.9 * min(low), 1.1 * max(high))
    ax.set(xlabel="learning rate", ylabel="training loss", title="LR range test")
    ax.legend(fontsize="small")
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainables.optim.lr_range", description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--steps", type=int, default=200, help="optimizer steps in the sweep")
    parser.add_argument("--start-lr", type=float, default=1e-5)
    parser.add_argument("--end-lr", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=Path("hpstudy_runs/lr_range"), help="folder for CSV and plot")
    args = parser.parse_args(argv)
    try:
        cfg = apply_overrides(TrainConfig(), parse_set_args(args.sets))
        validate(cfg)
        check_sweep(args.steps, args.start_lr, args.end_lr)
    except (ConfigError, ValueError, KeyError) as err:
        print(f"error: {err.args[0] if err.args else err}", file=sys.stderr)
        return 2
    result = run_range_test(cfg, steps=args.steps, start_lr=args.start_lr, end_lr=args.end_lr)
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(result, args.out / "lr_range.csv")
    plot(result, args.out / "lr_range.png")
    end = f"stopped at lr {result.lrs[-1]:.3g}: the loss exploded" if result.stopped_early else "no explosion"
    print(f"{len(result.lrs)} steps from lr {args.start_lr:.3g} ({end})")
    print(f"suggested lr: {result.suggestion:.3g} (steepest descent); min-loss lr / 10: {result.min_loss_over_10:.3g}")
    print(f"wrote {args.out / 'lr_range.csv'} and {args.out / 'lr_range.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
