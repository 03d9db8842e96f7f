"""SES step time / baseline for the GPU check, with each variant's peak memory: `benchmarks.ses_overhead`'s models,
variants and training step, interleaved in blocks as there, the device's peak memory kept per variant.

Each variant's peak is the highest over its own blocks (the allocator's peak is reset before each block): every
variant's model and optimizer are resident throughout, so the differences between the rows are SES's own memory.
"""

from __future__ import annotations

import copy
import dataclasses
import statistics
import time
import warnings

import torch

from benchmarks.ses_overhead import CYCLE, NUM_CLASSES, Bench, Variant, sync, train_step
from trainables.config import ModelConfig, SESConfig
from trainables.models.by_name import build_model
from trainables.optim.grad_step import GradStep
from trainables.optim.precision import Precision
from trainables.watch.meters import peak_memory_mb, reset_peak_memory


@dataclasses.dataclass(frozen=True)
class Timing:
    """How long to measure: `steps` timed steps per variant in blocks of `block`, after `warmup` untimed ones."""

    warmup: int
    steps: int  # a multiple of CYCLE and of block, so every_k=10 gets exactly one SES step in ten
    block: int

    def __post_init__(self) -> None:
        if self.block < 1 or self.steps < CYCLE or self.steps % CYCLE or self.steps % self.block or self.warmup < 0:
            raise ValueError(f"`steps` must be a multiple of {CYCLE} and of `block` >= 1, `warmup` >= 0, but got "
                             f"({self.steps=}, {self.block=}, {self.warmup=})")


def variants_of(bench: Bench, every_k: tuple[int, ...], *, image: int, device: torch.device) -> list[Variant]:
    """The baseline (NoSES) and one SES copy per every_k of one freshly built model; ViTs hook their blocks."""
    torch.manual_seed(0)
    base = build_model(ModelConfig(name=bench.model), num_classes=NUM_CLASSES, in_chans=3, image_size=image)
    base = base.to(device).train()
    ses_on = SESConfig(enabled=True, layers="all", targets=("block",))
    return [Variant("baseline", base, bench, SESConfig(enabled=False))] + [
        Variant(f"every_k={k}", copy.deepcopy(base), bench, dataclasses.replace(ses_on, every_k=k)) for k in every_k]


def measure(bench: Bench, every_k: tuple[int, ...], *, batch: int, image: int, timing: Timing,
            device: torch.device, precision: Precision) -> tuple[int, list[dict[str, float | str]]]:
    """(SES hooks, per variant: name, ms/step (mean of blocks), ratio to the baseline, peak MB)."""
    grad_step = GradStep(precision.scaler, clip_grad=bench.grad_clip)
    variants = variants_of(bench, every_k, image=image, device=device)
    hooks = len(variants[1].ses.layer_names)
    x = torch.randn(batch, 3, image, image, device=device)
    y = torch.randint(0, NUM_CLASSES, (batch,), device=device)
    peaks = {v.name: 0.0 for v in variants}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # unreachable-target clamping at small batches
        for v in variants:
            for _ in range(timing.warmup):
                train_step(v, x, y, precision, grad_step)
            v.step = 0  # timed steps start on an SES step, so every_k=10 gets exactly its share
        for r in range(timing.steps // timing.block):
            for v in variants[r % len(variants):] + variants[: r % len(variants)]:  # rotate who goes first
                sync(device)
                reset_peak_memory(device)
                t0 = time.perf_counter()
                for _ in range(timing.block):
                    train_step(v, x, y, precision, grad_step)
                sync(device)
                v.block_ms.append((time.perf_counter() - t0) * 1e3 / timing.block)
                peaks[v.name] = max(peaks[v.name], peak_memory_mb(device))
    for v in variants:
        v.ses.close()
    base = statistics.mean(variants[0].block_ms)
    rows = [{"variant": v.name, "ms_per_step": statistics.mean(v.block_ms),
             "ratio": statistics.mean(v.block_ms) / base, "peak_mb": peaks[v.name]} for v in variants]
    return hooks, rows
