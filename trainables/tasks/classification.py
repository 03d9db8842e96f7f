"""Classification: one class per image (or vector), cross-entropy, accuracy, and ROC AUC where there are two classes;
mixing, RandAugment and robustness apply."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hpstudy.schema.metrics import AUC, MetricSpec
from trainables.config import ModelConfig, TrainConfig
from trainables.config.overrides import ConfigError
from trainables.models.by_name import build_model, is_known
from trainables.recipe.mixing import build_targets_and_loss
from trainables.tasks.base import DataShape, LossOut, Task, TrainTargets
from trainables.watch.meters import Means


class _Loss:
    """The training loss as the loop calls it: CE (with label smoothing), or soft-target CE when mixing."""

    def __init__(self, loss_fn: nn.Module) -> None:
        self.loss_fn = loss_fn

    def __call__(self, logits: Tensor, target: Tensor) -> LossOut:
        return {"loss": self.loss_fn(logits, target)}


class AccuracyMeter:
    """Mean loss and top-1 accuracy on the hard labels (mixing changes the targets, never y)."""

    def __init__(self, device: torch.device) -> None:
        self.means = Means(device)

    def update(self, logits: Tensor, y: Tensor, loss: Tensor | None = None) -> None:
        n = y.numel()
        # eval: plain CE on the hard labels, in float32 (no smoothing: comparable across recipes)
        total = F.cross_entropy(logits.float(), y, reduction="sum") if loss is None else loss.detach() * n
        self.means.add("loss", total, n)
        self.means.add("acc", (logits.argmax(1) == y).sum(), n)

    def result(self) -> dict[str, float]:
        return self.means.result()

    def count(self) -> int:
        return self.means.count("acc")


class BinaryMeter(AccuracyMeter):
    """AccuracyMeter plus `auc`: torchmetrics' BinaryAUROC of P(class 1), exact (every score of the split kept).

    NaN when the split's labels hold one class only: torchmetrics would return 0 there, which reads as a score.
    """

    def __init__(self, device: torch.device) -> None:
        # here, not at the top: torchmetrics imports scipy.signal (~2 s on 2 cores), which only a 2-class run needs
        from torchmetrics.classification import BinaryAUROC

        super().__init__(device)
        self.auroc = BinaryAUROC(thresholds=None).to(device)
        self.positives = torch.zeros((), dtype=torch.int64, device=device)  # no host sync per step

    def update(self, logits: Tensor, y: Tensor, loss: Tensor | None = None) -> None:
        super().update(logits, y, loss)
        self.auroc.update(logits.detach().float().softmax(1)[:, 1], y)
        self.positives += y.sum()

    def result(self) -> dict[str, float]:
        out = super().result()
        n = self.count()
        if n:
            both = 0 < self.positives.item() < n
            out["auc"] = self.auroc.compute().item() if both else float("nan")
        return out


class Classification(Task):
    name = "classification"
    data_kind = "labels"
    metrics = (MetricSpec("acc", "max", "fraction", "top-1 accuracy"), AUC)  # auc: 2 classes only (BinaryMeter)
    supports = frozenset({"mixing", "label_smoothing", "randaugment", "robustness"})

    def check(self, cfg: TrainConfig) -> None:
        if not is_known(cfg.model.name):
            raise ConfigError(f"model.name: {cfg.model.name!r} is neither 'small_cnn', 'wrn28_10', 'toy_mlp', "
                              f"'tabular_mlp' nor a timm model name")

    def build_model(self, cfg: ModelConfig, data: DataShape, *, grad_checkpointing: bool) -> nn.Module:
        return build_model(cfg, num_classes=data.num_classes, in_chans=data.in_chans, image_size=data.image_size,
                           grad_checkpointing=grad_checkpointing)

    def train_targets(self, cfg: TrainConfig, data: DataShape, *, batch_size: int) -> TrainTargets:
        mix_fn, loss_fn = build_targets_and_loss(cfg.recipe, data.num_classes, batch_size=batch_size)
        return TrainTargets(mix_fn, _Loss(loss_fn))

    def meter(self, device: torch.device, data: DataShape) -> AccuracyMeter:
        return BinaryMeter(device) if data.num_classes == 2 else AccuracyMeter(device)

    def chance(self, data: DataShape) -> float:
        return 1.0 / data.num_classes
