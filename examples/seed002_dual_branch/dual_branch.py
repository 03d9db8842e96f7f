"""Seed 002's situation, as a task of one's own: a model of its own with two branches and three loss terms (global,
local, and the pair-wise head that joins them), weighted by hpstudy's bounded learned uncertainty weights
(`loss_weighting=uncertainty`, `log_var_bounds`), with the memory-growth and collapse monitors armed by the study.

The seed's dual cross-attention ViT is not needed to show the pieces: a small CNN with a global branch (the pooled
image), a local branch (the best 4x4 patch) and a pair head over both gives three heads whose losses the weighting
balances. `--set task.module=dual_branch:DualBranchTask` (this folder on the path: `hpstudy run study_dual.py` puts it).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from trainables.config import ModelConfig, TrainConfig
from trainables.tasks import TrainTargets
from trainables.tasks.classification import AccuracyMeter, Classification

HEADS = ("global", "local", "pair")


class DualBranch(nn.Module):
    """(B, C, H, W) -> (3, B, classes): the global head's, the local head's and the pair head's logits."""

    hook_points = ["stem", "global_branch", "local_branch"]  # SES's `layers=all`, should a study turn it on

    def __init__(self, in_chans: int, num_classes: int, width: int = 32, drop_rate: float = 0.0) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_chans, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU())
        self.global_branch = nn.Sequential(nn.Conv2d(width, width, 3, stride=2, padding=1), nn.ReLU(),
                                           nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.local_branch = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
                                          nn.AdaptiveMaxPool2d(4), nn.Flatten(), nn.Linear(16 * width, width))
        self.drop = nn.Dropout(drop_rate)
        self.global_head = nn.Linear(width, num_classes)
        self.local_head = nn.Linear(width, num_classes)
        self.pair_head = nn.Linear(2 * width, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        features = self.stem(x)
        g, loc = self.drop(self.global_branch(features)), self.drop(self.local_branch(features))
        return torch.stack([self.global_head(g), self.local_head(loc), self.pair_head(torch.cat([g, loc], 1))])


def three_losses(outputs: Tensor, y: Tensor) -> dict[str, Tensor]:
    """One cross-entropy per head: `loss_<head>` are the terms the uncertainty weighting learns to balance; `loss`
    (their plain sum) is what fixed weighting would train."""
    parts = {f"loss_{head}": F.cross_entropy(out.float(), y) for head, out in zip(HEADS, outputs)}
    return {"loss": sum(parts.values()), **parts}


class _MeanOfHeads(AccuracyMeter):
    """Accuracy and loss of the heads' mean logits: the model's prediction."""

    def update(self, outputs: Tensor, y: Tensor, loss: Tensor | None = None) -> None:
        super().update(outputs.mean(0), y, loss)


class DualBranchTask(Classification):
    name = "dual_branch"
    supports = frozenset({"robustness"})  # three heads: no mixing or label smoothing in this example

    def check(self, cfg: TrainConfig) -> None:
        """Any model.name: the model is this task's own."""

    def build_model(self, cfg: ModelConfig, data, *, grad_checkpointing: bool) -> nn.Module:
        return DualBranch(data.in_chans, data.num_classes, drop_rate=cfg.drop_rate)

    def train_targets(self, cfg: TrainConfig, data, *, batch_size: int) -> TrainTargets:
        return TrainTargets(None, three_losses)

    def meter(self, device: torch.device, data) -> _MeanOfHeads:
        return _MeanOfHeads(device)



