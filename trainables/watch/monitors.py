"""Pathology monitors: a trial watches itself and stops with a labelled reason instead of failing silently.

Built once from `MonitorConfig` and handed to the loop: `check_step` every step, `flush` at epoch end, `check_epoch`
after validation. Every stop is a `StopTraining(reason, detail)`; `detail` is one line with the figures.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import Tensor, nn

from trainables import distributed
from trainables.config import MonitorConfig
from trainables.watch.stops import StopTraining, is_oom, oom_retry_config, oom_stop

__all__ = ["Monitors", "StopTraining", "is_oom", "oom_retry_config", "oom_stop"]

TRACKED = "acc"  # default lead metric: <split>/<lead> is behind collapse, early stopping and val/<lead>_best
BY_CLASSES: Any = object()  # chance default: 1 / num_classes (classification accuracy)
CHANCE_TOLERANCE = 0.02  # val/acc <= 1/num_classes + this counts as chance (10 classes: <= 0.12)
NEVER_LEARNED_GRACE = 2  # never above chance in collapse_epochs + this many epochs (default 5) -> collapsed
MEMORY_GROWTH_EPOCHS = 3  # epochs of growth in a row before memory_growth
CHECK_EVERY = 25  # optimizer steps between host reads of the device-side loss flag


@dataclass
class _Counters:
    """Everything a resumed trial needs to continue its checks; plain numbers, so any checkpoint format holds it."""

    last_epoch: int = 0  # the last epoch (1-based, as reported) that check_epoch saw
    best: float = -math.inf  # best sign * val/<lead> so far, and when
    best_epoch: int = 0
    gain_ref: float = -math.inf  # early stopping's reference: moves only on a gain > min_delta
    since_gain: int = 0
    chance_run: int = 0  # epochs in a row at chance
    ratio_run: int = 0  # epochs in a row below collapse_ratio * best
    mem_prev: float = math.nan  # last epoch's peak memory (MB), and which epoch that was
    mem_prev_epoch: int = 0
    mem_run: int = 0  # epochs in a row that grew by more than memory_growth_mb
    mem_start: float = math.nan  # peak memory (MB) and epoch before the current run of growth
    mem_start_epoch: int = 0


class Monitors:
    """The checks of one trial, with state that `state_dict` / `load_state_dict` carry across a resume.

    `check_epoch` returns the stop rather than raising it, so the loop can still report (and checkpoint) the epoch
    that tripped it; `check_step` and `flush` raise, since a diverged step leaves nothing worth reporting.
    """

    def __init__(self, cfg: MonitorConfig, *, num_classes: int, check_every: int = CHECK_EVERY,
                 split: str = "val", lead: str = TRACKED, higher_is_better: bool = True,
                 chance: float | None = BY_CLASSES) -> None:
        _validate(num_classes, check_every)
        self.cfg = cfg
        # The epoch's evaluation split: "test" only without a validation split, where nothing may select on it,
        # so no best-so-far figure is reported (validation refuses patience there).
        self.split, self.lead, self.tracked = split, lead, f"{split}/{lead}"
        self.sign = 1.0 if higher_is_better else -1.0  # counters compare sign * value: larger is always better
        # The task's lead metric of a model that learned nothing; None: no floor, so only the ratio test runs.
        self.chance = 1.0 / num_classes if chance is BY_CLASSES else chance
        self.check_every = check_every
        self._c = _Counters()
        # Device-side record of the first step whose loss was not finite (-1 while none): read back every
        # `check_every` steps, never per step, so a GPU step adds no host sync. On CPU a read would be free, but one
        # path keeps the GPU one tested here; the stop names the exact step either way, it is only noticed late.
        self._bad_step: Tensor | None = None
        self._bad_loss: Tensor | None = None
        self._unread = 0

    def check_step(self, step: int, loss: Tensor) -> None:
        """Record whether this step's (scalar) loss is finite; raises StopTraining('diverged') at a read-back."""
        loss = loss.detach()
        if self._bad_step is None:
            self._bad_step = torch.full((), -1, dtype=torch.long, device=loss.device)
            self._bad_loss = torch.zeros((), dtype=torch.float32, device=loss.device)
        first = ~torch.isfinite(loss).all() & (self._bad_step < 0)
        self._bad_step = torch.where(first, step, self._bad_step)
        self._bad_loss = torch.where(first, loss.float().reshape(()), self._bad_loss)
        self._unread += 1
        if self._unread >= self.check_every:
            self.flush()

    def flush(self) -> None:
        """Read back the steps recorded since the last read (one host sync); raises StopTraining('diverged').

        With several workers (data-parallel) every rank reads every rank's record, so all stop on any one's.
        """
        self._unread = 0
        if self._bad_step is None:
            return
        step, loss, rank = distributed.first_flagged(self._bad_step, self._bad_loss)
        if step >= 0:
            where = f" on rank {rank}" if distributed.world() > 1 else ""
            raise StopTraining("diverged", f"non-finite loss ({loss}) at step {step}{where}",
                               step=step, epoch=self._c.last_epoch + 1)

    def check_epoch(self, epoch: int, metrics: dict[str, float],
                    model: nn.Module) -> tuple[dict[str, float], StopTraining | None]:
        """After validation of `epoch` (1-based: epochs completed) -> (metrics to log, the stop to raise or None).

        `metrics` needs train/<lead> and <split>/<lead>, and sys/peak_mem_mb when memory_growth_mb > 0. If several checks
        trip at once the first of diverged, memory_growth, collapsed, early_stopped is returned (a cause before
        its symptoms); every counter is updated either way.
        """
        c, val = self._c, metrics[self.tracked]
        score = self.sign * val
        c.last_epoch = epoch
        if score > c.best:
            c.best, c.best_epoch = score, epoch
        # gap: how much better training scores than the epoch's split (overfitting is a positive gap)
        extra = {f"gap/train_{self.split}_{self.lead}": self.sign * (metrics[f"train/{self.lead}"] - val)}
        if self.split == "val":
            extra.update({f"val/{self.lead}_best": self.sign * c.best, "best_epoch": c.best_epoch})
        stops = [_nonfinite_parameters(model, epoch), self._memory(epoch, metrics), self._collapse(epoch, val),
                 self._patience(epoch, score)]
        return extra, next((s for s in stops if s is not None), None)

    def state_dict(self) -> dict[str, float]:
        """The counters (call after `flush`: steps not yet read back are not part of it)."""
        return asdict(self._c)

    def load_state_dict(self, state: dict[str, float]) -> None:
        """Continue from `state_dict()`'s counters; ones it lacks (an older checkpoint) start fresh."""
        valid = [f.name for f in fields(_Counters)]
        unknown = sorted(set(state) - set(valid))
        if unknown:
            raise KeyError(f"unknown monitor state keys {unknown}; valid: {valid}")
        self._c = _Counters(**state)

    def _memory(self, epoch: int, metrics: dict[str, float]) -> StopTraining | None:
        """Peak memory grew by more than memory_growth_mb per epoch, MEMORY_GROWTH_EPOCHS epochs running."""
        if self.cfg.memory_growth_mb <= 0:
            return None
        c, mb = self._c, metrics["sys/peak_mem_mb"]
        if mb - c.mem_prev > self.cfg.memory_growth_mb:  # False while mem_prev is NaN (first epoch)
            if c.mem_run == 0:
                c.mem_start, c.mem_start_epoch = c.mem_prev, c.mem_prev_epoch
            c.mem_run += 1
        else:
            c.mem_run = 0
        c.mem_prev, c.mem_prev_epoch = mb, epoch
        if c.mem_run < MEMORY_GROWTH_EPOCHS:
            return None
        per_epoch = (mb - c.mem_start) / c.mem_run
        return StopTraining("memory_growth", f"peak memory {c.mem_start:.0f} -> {mb:.0f} MB over epochs "
                            f"{c.mem_start_epoch}-{epoch} (+{per_epoch:.0f} MB/epoch)", epoch=epoch)

    def _collapse(self, epoch: int, val: float) -> StopTraining | None:
        """Collapsed: having been above chance, val/<lead> is at chance (+ CHANCE_TOLERANCE), or below
        collapse_ratio * best, for collapse_epochs epochs running; or it was never above chance in
        collapse_epochs + NEVER_LEARNED_GRACE epochs (a run that has not learned yet gets that grace first).
        Only for a lead metric that grows as the model learns (a ratio of a loss-like metric means nothing)."""
        n = self.cfg.collapse_epochs
        if n <= 0 or self.sign < 0:
            return None
        c, t = self._c, self.tracked
        floor = self.chance + CHANCE_TOLERANCE if self.chance is not None else -math.inf
        learned = c.best > floor
        c.chance_run = c.chance_run + 1 if val <= floor else 0
        c.ratio_run = c.ratio_run + 1 if learned and val < self.cfg.collapse_ratio * c.best else 0
        best = f"(best {c.best:.3f} at epoch {c.best_epoch})"
        if learned and c.chance_run >= n:
            detail = f"{t} {val:.3f} <= chance {self.chance:.3f} (+{CHANCE_TOLERANCE}) for {c.chance_run} epochs {best}"
        elif c.ratio_run >= n:
            detail = f"{t} {val:.3f} < {self.cfg.collapse_ratio:g} x best for {c.ratio_run} epochs {best}"
        elif not learned and c.chance_run >= n + NEVER_LEARNED_GRACE:
            detail = (f"never above chance: {t} <= {floor:.3f} (chance {self.chance:.3f} + {CHANCE_TOLERANCE}) "
                      f"for all {c.chance_run} epochs {best}")
        else:
            return None
        return StopTraining("collapsed", detail, epoch=epoch)

    def _patience(self, epoch: int, score: float) -> StopTraining | None:
        """No gain > min_delta over the best so far for `patience` epochs (`score`: sign * value)."""
        c = self._c
        if score > c.gain_ref + self.cfg.min_delta:
            c.gain_ref, c.since_gain = score, 0
        else:
            c.since_gain += 1
        if self.cfg.patience <= 0 or c.since_gain < self.cfg.patience:
            return None
        return StopTraining("early_stopped", f"no {self.tracked} gain > {self.cfg.min_delta:g} for {c.since_gain} "
                            f"epochs (best {self.sign * c.best:.3f} at epoch {c.best_epoch})", epoch=epoch)


def _nonfinite_parameters(model: nn.Module, epoch: int) -> StopTraining | None:
    """Parameters and float buffers (BN statistics) all finite? One fused max-|x| pass and one host read."""
    named = [(n, t) for n, t in model.state_dict(keep_vars=True).items() if t.is_floating_point()]
    if not named:
        return None
    # The inf-norm is inf/NaN exactly when an element is; a 2-norm could overflow on large but finite weights.
    norms = torch._foreach_norm([t.detach() for _, t in named], ord=math.inf)
    finite = torch.isfinite(torch.stack([n.float() for n in norms])).tolist()
    bad = [name for (name, _), ok in zip(named, finite) if not ok]
    if not bad:
        return None
    more = f" (+{len(bad) - 3} more)" if len(bad) > 3 else ""
    return StopTraining("diverged", f"non-finite parameters after epoch {epoch}: {', '.join(bad[:3])}{more}",
                        epoch=epoch)


def _validate(num_classes: int, check_every: int) -> None:
    # The section's values were checked by trainables.validate (their ranges: trainables.config.ranges).
    if num_classes < 2 or check_every < 1:
        raise ValueError(f"`num_classes >= 2 and check_every >= 1` must hold, but got ({num_classes=}, {check_every=}).")
