"""One training epoch, read top to bottom: per optimizer step, micro-batches -> loss (+ SES) -> backward -> step."""

from __future__ import annotations

import itertools
from typing import Iterator

import numpy as np

from trainables import distributed
from trainables.parts import Parts
from trainables.watch.meters import Means


def _groups(batches: Iterator, size: int) -> Iterator[list]:
    """Consecutive micro-batches, `size` at a time; an incomplete last group is dropped."""
    while len(group := list(itertools.islice(batches, size))) == size:
        yield group


_MIX_STREAM = 0x313C  # tags numpy's per-epoch stream (timm's Mixup draws its lambdas from numpy's global RNG)


def seed_numpy(seed: int, epoch: int) -> None:
    """Seed numpy's global RNG from (seed, epoch): mixing is then the same for the same seed, and a resumed run
    at `epoch` mixes as the uninterrupted one did, with no RNG state in the checkpoint."""
    np.random.seed(np.random.SeedSequence([seed, epoch, _MIX_STREAM]).generate_state(1)[0])


def train_one_epoch(p: Parts, epoch: int, first_step: int) -> tuple[dict[str, float], int, int]:
    """-> (epoch means, next step, samples seen), over every worker's samples with several (data-parallel).

    One host sync at the end (and the monitors' periodic check).
    """
    seed_numpy(p.cfg.seed, epoch)
    distributed.seed_rank(p.cfg.seed, epoch)  # several workers: dropout differs per rank
    p.train_model.train()
    meter = p.task.meter(p.device, p.data)  # the task's metrics on the hard targets: train/loss, train/acc, ...
    means = Means(p.device)  # loss components, SES and loss-weight figures
    step = first_step
    for micro_batches in _groups(iter(p.data.train_batches(epoch)), p.cfg.accum_steps):
        for group in p.optimizer.param_groups:
            group["lr"] = p.lr_at(step)
        p.optimizer.zero_grad(set_to_none=True)
        for x, y in micro_batches:
            p.ses.begin_step(step)  # per micro-batch: each forward's activations get their own penalty
            target = y
            if p.mix_fn is not None:
                x, target = p.mix_fn(x, y)  # soft targets; the meter below still scores the hard labels
            with p.precision.autocast():
                output = p.task.forward(p.train_model, x)
                losses = p.criterion(output, target)
            loss = losses["loss"]
            penalty, ses_metrics = p.ses.penalty(step)  # float32 inside, autocast off
            total, weight_metrics = p.weighting(losses, penalty)  # fixed: loss + penalty; or every term weighted
            p.monitors.check_step(step, total)
            p.grad_step.backward(total / len(micro_batches))  # the step's gradient: the micro-batches' mean
            meter.update(output.detach(), y, loss)
            n = y.shape[0]
            for key, value in losses.items():
                if key != "loss":
                    means.add(f"train/{key}", value.detach() * n, n)
            for key, value in {**ses_metrics, **weight_metrics}.items():
                means.add(key, value, 1)
        p.grad_step.step(p.optimizer, p.model.parameters())  # clips the model's gradients, not the loss weights'
        step += 1
        if p.ema is not None:
            p.ema.update(p.model, step=step)  # optimizer updates so far: timm's EMA warmup counts these
    p.monitors.flush()
    distributed.sync_buffers(p.model, p.ema)  # every rank evaluates rank 0's BatchNorm statistics
    # Each mean with its count, so several workers' reduce to means over the global batch
    figures = {f"train/{k}": (v, meter.count()) for k, v in meter.result().items()}
    figures.update({k: (v, means.count(k)) for k, v in means.result().items()})
    out = distributed.global_means(figures)
    out["lr"] = p.lr_at(step - 1)
    return out, step, distributed.total(meter.count())
