"""One training epoch, read top to bottom: per optimizer step, micro-batches -> loss (+ SES) -> backward -> step."""

from __future__ import annotations

import itertools
from typing import Iterator

from torch import nn

from trainables.meters import Means
from trainables.parts import Parts


def _groups(batches: Iterator, size: int) -> Iterator[list]:
    """Consecutive micro-batches, `size` at a time; an incomplete last group is dropped."""
    while len(group := list(itertools.islice(batches, size))) == size:
        yield group


def train_one_epoch(p: Parts, epoch: int, first_step: int) -> tuple[dict[str, float], int, int]:
    """-> (epoch means, next step, samples seen). One host sync at the end (and the monitors' periodic check)."""
    p.model.train()
    means = Means(p.device)
    step = first_step
    for micro_batches in _groups(iter(p.data.train_batches(epoch)), p.cfg.accum_steps):
        for group in p.optimizer.param_groups:
            group["lr"] = p.lr_at(step)
        p.optimizer.zero_grad(set_to_none=True)
        for x, y in micro_batches:
            p.ses.begin_step(step)  # per micro-batch: each forward's activations get their own penalty
            target = y
            if p.mix_fn is not None:
                x, target = p.mix_fn(x, y)  # soft targets; accuracy below still counts the hard labels
            with p.precision.autocast():
                logits = p.model(x)
                loss = p.loss_fn(logits, target)
            penalty, ses_metrics = p.ses.penalty(step)  # float32 inside, autocast off
            total, weight_metrics = p.weighting({"task": loss, "ses": penalty})
            p.monitors.check_step(step, total)
            p.precision.scaler.scale(total / len(micro_batches)).backward()
            n = y.numel()
            means.add("train/loss", loss.detach() * n, n)
            means.add("train/acc", (logits.argmax(1) == y).sum(), n)
            for key, value in {**ses_metrics, **weight_metrics}.items():
                means.add(key, value, 1)
        if p.cfg.optim.grad_clip > 0:
            p.precision.scaler.unscale_(p.optimizer)
            nn.utils.clip_grad_norm_(p.model.parameters(), p.cfg.optim.grad_clip)
        p.precision.scaler.step(p.optimizer)
        p.precision.scaler.update()
        step += 1
        if p.ema is not None:
            p.ema.update(p.model, step=step)  # optimizer updates so far: timm's EMA warmup counts these
    p.monitors.flush()
    out = means.result()
    out["lr"] = p.lr_at(step - 1)
    return out, step, means.count("train/acc")
