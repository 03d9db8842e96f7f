"""hpstudy's trainer (`trainables.loop.run`) without Ray, for the GPU check: a sink that keeps every epoch's report,
and `torch.compile` put on the model the training forward calls.

The trainer has no compile option; `compiled` wraps the loop's `build_parts` so that `Parts.train_model` is the
compiled module (evaluation and checkpoints keep the plain one), the way such an option would.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

from trainables import loop
from trainables.config import TrainConfig
from trainables.config.overrides import apply_overrides

KEPT = ("epoch", "train/loss", "val/loss", "val/acc", "sys/epoch_s", "sys/samples_per_s", "sys/peak_mem_mb")


class Epochs:
    """A `Sink` that starts fresh and keeps each epoch's figures (the numeric KEPT ones) in order."""

    def __init__(self) -> None:
        self.epochs: list[dict[str, float]] = []

    def restore(self) -> None:
        return None

    def report(self, metrics: dict[str, Any], state: dict[str, Any] | None) -> None:
        self.epochs.append({k: float(metrics[k]) for k in KEPT if k in metrics})


@contextlib.contextmanager
def compiled(backend: str | None) -> Iterator[None]:
    """While open, runs of the loop train `torch.compile(train_model, backend=...)`; None leaves them eager."""
    if backend is None:
        yield
        return
    build = loop.build_parts

    def build_compiled(cfg: TrainConfig):
        parts = build(cfg)
        parts.train_model = torch.compile(parts.train_model, backend=backend)
        return parts

    loop.build_parts = build_compiled
    try:
        yield
    finally:
        loop.build_parts = build
        torch._dynamo.reset()  # the next run compiles its own model afresh


def train(overrides: dict[str, Any], *, compile_backend: str | None = None) -> list[dict[str, float]]:
    """Train TrainConfig() with `overrides` (flattened keys, as `--set` names them); returns its epochs' figures."""
    sink = Epochs()
    with compiled(compile_backend):
        loop.run(apply_overrides(TrainConfig(), overrides), sink)
    return sink.epochs

