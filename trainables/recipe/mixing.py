"""Mixup/CutMix and the training loss, decided together: mixing trains against soft targets.

`build_targets_and_loss` is the one way to get either, so a hard-label loss is paired with mixing only when
`recipe.mix_target=hard` asks for it: seed 000's broken recipe, kept so its ablation can measure the fix.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Callable, NamedTuple

from torch import Tensor, nn

from trainables.config import RecipeConfig

if TYPE_CHECKING:
    from timm.data import Mixup

__all__ = ["MIX_TARGETS", "MixFn", "TargetsAndLoss", "build_targets_and_loss"]

MIX_TARGETS = ("soft", "hard")  # recipe.mix_target
MixFn = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]  # (x, y int64 (B,)) -> (x mixed in place, y soft (B, K))


class TargetsAndLoss(NamedTuple):
    """What the loop trains with: `x, target = mix_fn(x, y)` when mix_fn is set, then `loss_fn(logits, target)`.

    mix_fn mixes x in place and leaves y alone, so train/acc stays `(logits.argmax(1) == y)` on the hard labels.
    """

    mix_fn: MixFn | None  # None: the batch and its hard labels go to loss_fn unchanged
    loss_fn: nn.Module  # SoftTargetCrossEntropy when mix_fn gives soft targets, else CrossEntropyLoss


def check(cfg: RecipeConfig) -> None:
    """Raise ValueError naming the values when the recipe settings cannot work."""
    if cfg.mixup_alpha < 0 or cfg.cutmix_alpha < 0:
        raise ValueError(f"`mixup_alpha >= 0 and cutmix_alpha >= 0` must hold, but got "
                         f"({cfg.mixup_alpha=}, {cfg.cutmix_alpha=}).")
    if not (0.0 <= cfg.mix_prob <= 1.0 and 0.0 <= cfg.switch_prob <= 1.0):
        raise ValueError(f"`mix_prob` and `switch_prob` must lie in [0, 1], but got "
                         f"({cfg.mix_prob=}, {cfg.switch_prob=}).")
    if not 0.0 <= cfg.label_smoothing < 1.0:
        raise ValueError(f"`0 <= label_smoothing < 1` must hold, but got {cfg.label_smoothing=}.")
    if cfg.mix_target not in MIX_TARGETS:
        raise ValueError(f"mix_target: {cfg.mix_target!r} is not one of {', '.join(MIX_TARGETS)}")
    if cfg.mix_target == "hard" and cfg.mixup_alpha == 0 and cfg.cutmix_alpha == 0:
        raise ValueError(f"mix_target='hard' trains mixed images against their unmixed labels, but nothing is "
                         f"mixed ({cfg.mixup_alpha=}, {cfg.cutmix_alpha=}); leave mix_target='soft'")


def build_targets_and_loss(cfg: RecipeConfig, num_classes: int, *, batch_size: int) -> TargetsAndLoss:
    """Mixing (timm `Mixup`, one lambda per batch) with soft-target CE, or plain CE with label smoothing.

    `cfg.mix_target="hard"` is seed 000's bug, on purpose: the images are mixed as above, but each is trained
    against its own unmixed label with plain CE (label smoothing as without mixing), so a mixed image whose
    other image dominates (lam < 0.5) is trained towards the wrong class. Its note put the ceiling at ~71%.

    `batch_size` is the training batch as the loop sees it (drop_last keeps it fixed): timm's Mixup pairs image i
    with image B-1-i and asserts an even batch, so an odd one is refused here rather than at the first step.
    Mixup draws from numpy's global RNG: the training step seeds it per (seed, epoch) (trainables.step). Label
    smoothing is folded into the soft targets when mixing, so it means the same thing with mixing on or off.
    """
    check(cfg)
    if cfg.mixup_alpha == 0 and cfg.cutmix_alpha == 0:
        return TargetsAndLoss(None, nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing))
    if batch_size % 2:
        raise ValueError(f"mixup/cutmix pair image i with image B-1-i and need an even batch, but got "
                         f"{batch_size=} (with {cfg.mixup_alpha=}, {cfg.cutmix_alpha=}).")
    from timm.data import Mixup  # timm (with torchvision) takes ~1.5 s to import: only a run that uses it pays
    from timm.loss import SoftTargetCrossEntropy

    mix = Mixup(mixup_alpha=cfg.mixup_alpha, cutmix_alpha=cfg.cutmix_alpha, prob=cfg.mix_prob,
                switch_prob=cfg.switch_prob, label_smoothing=cfg.label_smoothing, num_classes=num_classes)
    if cfg.mix_target == "hard":
        return TargetsAndLoss(partial(_hard_labels, mix), nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing))
    return TargetsAndLoss(mix, SoftTargetCrossEntropy())


def _hard_labels(mix: Mixup, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """The images mixed (in place, the same draws as soft targets get), each still labelled with its own class."""
    x, _ = mix(x, y)
    return x, y
