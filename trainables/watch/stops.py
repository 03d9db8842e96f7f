"""Why a trial stopped early: `StopTraining(reason, detail)`, and the out-of-memory stop and retry.

The reason becomes an MLflow tag and a column of the study summary; the study goes on with the other trials.
"""

from __future__ import annotations

import dataclasses

import torch

from trainables.config import TrainConfig

REASONS = ("diverged", "collapsed", "memory_growth", "oom", "early_stopped")
RETRY_CHANGES = ("data.batch_size", "accum_steps", "monitor.oom_retry")  # what `oom_retry_config` changes


class StopTraining(Exception):
    """A trial ends here on purpose: `reason` is one of REASONS, `detail` one line with the figures."""

    def __init__(self, reason: str, detail: str, *, step: int | None = None, epoch: int | None = None) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown stop reason {reason!r}; valid: {', '.join(REASONS)}")
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail, self.step, self.epoch = reason, detail, step, epoch

    def __reduce__(self):  # keyword-only fields: Exception's default pickling (Ray ships errors) would drop them
        return _rebuild, (self.reason, self.detail, self.step, self.epoch)


def _rebuild(reason: str, detail: str, step: int | None, epoch: int | None) -> StopTraining:
    return StopTraining(reason, detail, step=step, epoch=epoch)


def _memory(mb: float) -> str:
    return f"{mb / 1024:.1f} GB" if mb >= 1024 else f"{mb:.0f} MB"


def oom_stop(batch_size: int, peak_mb: float, *, step: int | None = None, epoch: int | None = None) -> StopTraining:
    """The stop for an out-of-memory error at `batch_size`, naming the peak memory reached (MB)."""
    return StopTraining("oom", f"out of memory at batch size {batch_size} (peak {_memory(peak_mb)})",
                        step=step, epoch=epoch)


def is_oom(error: BaseException) -> bool:
    """CUDA (and other accelerators) raise torch.OutOfMemoryError; the CPU allocator raises a plain RuntimeError."""
    return isinstance(error, torch.OutOfMemoryError) or (
        isinstance(error, RuntimeError) and "can't allocate memory" in str(error))


def oom_retry_config(cfg: TrainConfig) -> TrainConfig | None:
    """The config to retry an OOM with (half the batch, twice the accumulation), or None when not to retry.

    The retry has `monitor.oom_retry` off, so it is tried once. The effective batch stays the same for even sizes.
    It changes RETRY_CHANGES, no other value.
    """
    if not cfg.monitor.oom_retry or cfg.data.batch_size < 2:
        return None
    return dataclasses.replace(
        cfg, accum_steps=2 * cfg.accum_steps,
        data=dataclasses.replace(cfg.data, batch_size=cfg.data.batch_size // 2),
        monitor=dataclasses.replace(cfg.monitor, oom_retry=False),
    )
