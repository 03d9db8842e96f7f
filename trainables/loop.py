"""The training loop: build the parts once, then epochs of train -> evaluate -> report(metrics, checkpoint).

It imports no Ray; a `Sink` (Ray Train's, or the local one) decides where reports and checkpoints go.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Protocol

import torch
import torch.nn.functional as F
from torch import nn

from trainables import checkpoint
from trainables.config import TrainConfig
from trainables.data import DataBundle, build_data
from trainables.defaults import resolve
from trainables.meters import Means, peak_memory_mb, reset_peak_memory
from trainables.models import build_model
from trainables.optim import build_optimizer
from trainables.precision import Precision, build_precision, resolve_device
from trainables.schedules import build_lr_schedule
from trainables.ses import build_ses


RESTORED_HISTORY = "restored_history"  # report key: list of the per-epoch metrics before a restore


class Sink(Protocol):
    def restore(self) -> dict[str, Any] | None: ...  # the last checkpoint state of this run, if any
    def report(self, metrics: dict[str, float], state: dict[str, Any]) -> None: ...


@dataclass
class Parts:
    """What one run trains with, built once from the config."""

    cfg: TrainConfig
    device: torch.device
    data: DataBundle
    model: nn.Module
    optimizer: torch.optim.Optimizer
    precision: Precision
    lr_at: Callable[[int], float]
    ses: Any  # SESRegularizer | NoSES


def build_parts(cfg: TrainConfig) -> Parts:
    cfg = resolve(cfg)
    if cfg.num_threads > 0:
        torch.set_num_threads(cfg.num_threads)
    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)
    data = build_data(cfg.data, cfg.seed, device)
    model = build_model(cfg.model, num_classes=data.num_classes, in_chans=data.in_chans, image_size=data.image_size,
                        grad_checkpointing=cfg.grad_checkpointing).to(device)
    steps = optimizer_steps_per_epoch(data, cfg.accum_steps)
    return Parts(
        cfg=cfg, device=device, data=data, model=model,
        optimizer=build_optimizer(model, cfg.optim),
        precision=build_precision(cfg.precision, device),
        lr_at=build_lr_schedule(cfg.sched, cfg.optim.lr, steps, cfg.epochs),
        ses=build_ses(model, cfg.ses, total_steps=steps * cfg.epochs),
    )


def optimizer_steps_per_epoch(data: DataBundle, accum_steps: int) -> int:
    """Schedules count optimizer steps; micro-batches left over at an epoch's end (< accum_steps) are skipped."""
    if accum_steps < 1 or data.steps_per_epoch() < accum_steps:
        raise ValueError(f"accum_steps={accum_steps}: expected 1..{data.steps_per_epoch()} (micro-batches per epoch)")
    return data.steps_per_epoch() // accum_steps


def _groups(batches: Iterator, size: int) -> Iterator[list]:
    """Consecutive micro-batches, `size` at a time; an incomplete last group is dropped."""
    while len(group := list(itertools.islice(batches, size))) == size:
        yield group


def train_one_epoch(p: Parts, epoch: int, first_step: int) -> tuple[dict[str, float], int, int]:
    """One pass over the training batches -> (epoch means, next step, samples seen). One host sync, at the end."""
    p.model.train()
    means = Means(p.device)
    step = first_step
    for micro_batches in _groups(iter(p.data.train_batches(epoch)), p.cfg.accum_steps):
        for group in p.optimizer.param_groups:
            group["lr"] = p.lr_at(step)
        p.ses.begin_step(step)
        p.optimizer.zero_grad(set_to_none=True)
        for x, y in micro_batches:
            with p.precision.autocast():
                logits = p.model(x)
                loss = F.cross_entropy(logits, y)
            penalty, ses_metrics = p.ses.penalty(step)  # float32 inside, autocast off
            p.precision.scaler.scale((loss + penalty) / len(micro_batches)).backward()
            n = y.numel()
            means.add("train/loss", loss.detach() * n, n)
            means.add("train/acc", (logits.argmax(1) == y).sum(), n)
            for key, value in ses_metrics.items():
                means.add(key, value, 1)
        if p.cfg.optim.grad_clip > 0:
            p.precision.scaler.unscale_(p.optimizer)
            nn.utils.clip_grad_norm_(p.model.parameters(), p.cfg.optim.grad_clip)
        p.precision.scaler.step(p.optimizer)
        p.precision.scaler.update()
        step += 1
    out = means.result()
    out["lr"] = p.lr_at(step - 1)
    return out, step, means.count("train/acc")


@torch.no_grad()
def evaluate(p: Parts) -> dict[str, float]:
    p.model.eval()  # SES hooks capture nothing in eval mode
    means = Means(p.device)
    for x, y in p.data.val_batches():
        with p.precision.autocast():
            logits = p.model(x)
        n = y.numel()
        means.add("val/loss", F.cross_entropy(logits.float(), y, reduction="sum"), n)
        means.add("val/acc", (logits.argmax(1) == y).sum(), n)
    return means.result()


def run(cfg: TrainConfig, sink: Sink) -> dict[str, float]:
    """Train `cfg` for its epochs (continuing from the sink's checkpoint, if any); returns the last metrics."""
    p = build_parts(cfg)
    cfg = p.cfg  # with its 'auto' values resolved
    start_epoch, step, best, history = 0, 0, {"val/acc": float("-inf")}, []
    state = sink.restore()
    if state is not None:
        checkpoint.restore(state, p.model, p.optimizer, p.precision.scaler)
        start_epoch, step, best, history = state["epoch"], state["step"], state["best"], state["history"]
    # The first report after a restore carries the epochs before it: one may have been checkpointed but never
    # reached the tracker (e.g. Ctrl-C between the two), and the tracker fills in whatever it lacks.
    restored = list(history)
    metrics: dict[str, float] = {}
    try:
        for epoch in range(start_epoch, cfg.epochs):
            reset_peak_memory(p.device)
            t0 = time.perf_counter()
            train_metrics, step, samples = train_one_epoch(p, epoch, step)
            train_s = time.perf_counter() - t0
            metrics = {**train_metrics, **evaluate(p)}
            best["val/acc"] = max(best["val/acc"], metrics["val/acc"])
            metrics.update({
                "epoch": epoch + 1,  # epochs completed: ASHA's time axis, MLflow's step
                "step": step,
                "val/acc_best": best["val/acc"],
                "sys/epoch_s": time.perf_counter() - t0,
                "sys/samples_per_s": samples / train_s,
                "sys/peak_mem_mb": peak_memory_mb(p.device),
            })
            history.append(metrics)
            state = checkpoint.capture(p.model, p.optimizer, p.precision.scaler, epoch=epoch + 1, step=step,
                                       best=best, history=history)
            sink.report({**metrics, RESTORED_HISTORY: restored} if restored else metrics, state)
            restored = []
    finally:
        p.ses.close()
    return metrics
