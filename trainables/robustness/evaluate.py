"""Accuracy on corrupted validation images: `evaluate_robustness` for any model and batches, and the per-trial
`RobustnessEval` that `build_robustness` hands the training loop.
"""

from __future__ import annotations

import time
import zlib
from typing import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import Tensor

from trainables.config import RobustnessConfig
from trainables.data.batching import DataBundle
from trainables.robustness.corruptions import COLOR_ONLY, CORRUPTIONS, SEVERITIES, applicable, lookup
from trainables.robustness.ops import to_uint8_grid

_ROB_STREAM = 0xC0C0  # tags the corruption draws so they never share a stream with training's seeded uses


def corruption_generator(seed: int, name: str, severity: int) -> torch.Generator:
    """CPU generator for one (corruption, severity): the same draws whichever other corruptions are evaluated."""
    state = np.random.SeedSequence([seed, zlib.crc32(name.encode()), severity, _ROB_STREAM]).generate_state(1)[0]
    return torch.Generator().manual_seed(int(state))


def _check_severities(severities: Sequence[int]) -> None:
    if not severities or any(s not in SEVERITIES for s in severities):
        raise ValueError(f"severities: expected a non-empty subset of {SEVERITIES}, got {tuple(severities)}")


@torch.no_grad()
def evaluate_robustness(predict: Callable[[Tensor], Tensor], batches: Iterable[tuple[Tensor, Tensor]],
                        normalize: Callable[[Tensor], Tensor], *, corruptions: Sequence[str],
                        severities: Sequence[int], seed: int = 0, quantize: bool = True) -> dict[str, float]:
    """{'rob/acc': mean accuracy over corruptions x severities, 'rob/acc/<name>': mean over severities}.

    `batches` yield (x in [0, 1] un-normalized, y) on the model's device and are read once; `predict` maps
    normalized images to logits. `quantize` truncates corrupted images to uint8 levels, as the CIFAR-10-C files
    store them. Counts stay on the device: one host sync in all.
    """
    fns = [lookup(name) for name in corruptions]
    _check_severities(severities)
    gens = [[corruption_generator(seed, name, s) for s in severities] for name in corruptions]
    correct: Tensor | None = None
    total = 0
    for x, y in batches:
        if correct is None:
            correct = torch.zeros(len(fns), len(severities), dtype=torch.int64, device=x.device)
        x = x.float()
        for i, fn in enumerate(fns):
            for j, severity in enumerate(severities):
                corrupted = fn(x, severity, gens[i][j])
                if quantize:
                    corrupted = to_uint8_grid(corrupted, rounding="floor")
                correct[i, j] += (predict(normalize(corrupted)).argmax(1) == y).sum()
        total += y.shape[0]
    if correct is None or total == 0:
        raise ValueError("evaluate_robustness: `batches` yielded no images")
    acc = (correct.double() / total).cpu()  # the host sync
    metrics = {"rob/acc": acc.mean().item()}
    metrics.update({f"rob/acc/{name}": acc[i].mean().item() for i, name in enumerate(corruptions)})
    return metrics


def resolve_corruptions(cfg: RobustnessConfig, in_chans: int) -> tuple[str, ...]:
    """cfg.corruptions (or every applicable one), checked: ValueError naming a bad value and the valid ones."""
    for name in cfg.corruptions:
        if name not in CORRUPTIONS:
            raise ValueError(f"rob.corruptions: unknown corruption {name!r}; valid names: {', '.join(CORRUPTIONS)}")
        if name in COLOR_ONLY and in_chans != 3:
            raise ValueError(f"rob.corruptions: {name!r} needs 3-channel images, the data has {in_chans}; "
                             f"valid names here: {', '.join(applicable(in_chans))}")
    _check_severities(cfg.severities)
    if cfg.every < 0 or cfg.max_images < 0:
        raise ValueError(f"`rob.every >= 0 and rob.max_images >= 0` must hold, but got ({cfg.every=}, "
                         f"{cfg.max_images=}).")
    return tuple(cfg.corruptions) or applicable(in_chans)


class RobustnessEval:
    """Built once per trial; the loop asks `.due(...)` after each epoch and calls it with the model's predict."""

    def __init__(self, data: DataBundle, *, corruptions: Sequence[str], severities: Sequence[int], every: int,
                 max_images: int, seed: int = 0, split: str = "val"):
        self.data, self.split = data, split  # split: the epoch's evaluation split (test without a validation one)
        self.corruptions, self.severities = tuple(corruptions), tuple(severities)
        self.every, self.max_images = every, max_images
        self.seed = seed  # fixed across epochs and trials: every evaluation sees the same corrupted images

    def due(self, epoch: int, epochs: int) -> bool:
        """`epoch` counts epochs completed (1..epochs, the reported 'epoch'): every `every`-th, and the last."""
        return epoch == epochs or (self.every > 0 and epoch % self.every == 0)

    def __call__(self, predict: Callable[[Tensor], Tensor]) -> dict[str, float]:
        t0 = time.perf_counter()
        batches = self.data.raw_batches(self.split, self.max_images)
        metrics = evaluate_robustness(predict, batches, self.data.normalize, corruptions=self.corruptions,
                                      severities=self.severities, seed=self.seed)
        metrics["sys/rob_eval_s"] = time.perf_counter() - t0  # ends after the host sync: the full device time
        return metrics


def build_robustness(cfg: RobustnessConfig, data: DataBundle, *, seed: int = 0,
                     split: str = "val") -> RobustnessEval | None:
    """None when cfg.enabled is False; otherwise the evaluator, with names and severities checked up front."""
    if not cfg.enabled:
        return None
    corruptions = resolve_corruptions(cfg, data.in_chans)
    return RobustnessEval(data, corruptions=corruptions, severities=cfg.severities, every=cfg.every,
                          max_images=cfg.max_images, seed=seed, split=split)
