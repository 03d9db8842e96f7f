"""Semantic segmentation: one class per pixel, cross-entropy + Dice loss, F-score / IoU / pixel accuracy.

Class 0 is background; the averaged scores are over the foreground classes (why: `scores`). No optional features.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from segmentation_models_pytorch.losses import DiceLoss
from torch import Tensor, nn
from torchmetrics.classification import MulticlassConfusionMatrix

from hpstudy.schema.metrics import MetricSpec
from trainables.config import ModelConfig, TrainConfig
from trainables.config.overrides import ConfigError
from trainables.data.seg_datasets import known_image_size
from trainables.models.seg_models import build_seg_model, check_input_size, input_stride
from trainables.tasks.base import DataShape, LossOut, Task, TrainTargets
from trainables.watch.meters import Means


class SegLoss:
    """Pixel-mean cross-entropy + dice_weight * smp's multiclass Dice loss (1 - soft Dice, batch-pooled per class,
    over the classes present in the batch), both in float32 whatever the autocast dtype."""

    def __init__(self, dice_weight: float) -> None:
        self.dice_weight = dice_weight
        self.dice = DiceLoss(mode="multiclass", from_logits=True)

    def __call__(self, logits: Tensor, target: Tensor) -> LossOut:
        logits = logits.float()
        ce = F.cross_entropy(logits, target)
        dice = self.dice(logits, target)
        return {"loss": ce + self.dice_weight * dice, "loss_ce": ce, "loss_dice": dice}


class PixelConfusion(MulticlassConfusionMatrix):
    """torchmetrics' (C, C) pixel confusion matrix (rows: target, columns: prediction), summed over a split.

    Only `update` is replaced: torchmetrics counts with `torch.bincount`, which on CUDA reads its input's min and
    max back to the host on every call, and the train meter updates every step. A scatter-add into the fixed-size
    state counts the same pixels with no sync (tests/trainables/tasks/test_segmentation.py compares the two).
    """

    def __init__(self, num_classes: int) -> None:
        super().__init__(num_classes, validate_args=False)

    def update(self, preds: Tensor, target: Tensor) -> None:
        cells = target.reshape(-1) * self.num_classes + preds.reshape(-1)
        self.confmat.view(-1).scatter_add_(0, cells, torch.ones_like(cells))


def scores(confmat: Tensor) -> dict[str, float]:
    """fscore, iou: macro means over the foreground classes (1..C-1) present in the split's targets or predictions
    (torchmetrics' macro rule: a class with tp + fp + fn = 0 is left out); pixel_acc: over all pixels.

    Background is left out of the means because on MNIST-seg it is ~85% of the pixels: its F-score is near 1 from
    the first epoch and would hide how well digits are found. Macro, not micro: micro-F1 over all classes equals
    pixel accuracy, and micro over the foreground is dominated by the digits with the most ink. A foreground pixel
    predicted as background still counts against its class, so leaving background out hides no error.
    """
    cm = confmat.double()
    tp = cm.diag()
    fp, fn = cm.sum(0) - tp, cm.sum(1) - tp
    tp_fg, wrong = tp[1:], (fp + fn)[1:]
    present = tp_fg + wrong > 0
    tp_fg, wrong = tp_fg[present], wrong[present]
    if present.any():
        fscore, iou = (2 * tp_fg / (2 * tp_fg + wrong)).mean(), (tp_fg / (tp_fg + wrong)).mean()
    else:  # no foreground in targets or predictions: 0, torchmetrics' zero_division default
        fscore = iou = cm.new_zeros(())
    pixel_acc = tp.sum() / cm.sum().clamp_min(1)
    return dict(zip(("fscore", "iou", "pixel_acc"), torch.stack([fscore, iou, pixel_acc]).tolist()))


class SegMeter:
    """Mean loss and the split's pixel scores, from sums kept on the device and read back once, in result().

    Training passes each step's loss; its mean over images is reported. Evaluation computes SegLoss as if the
    split were one batch: smp's Dice pools its sums over the batch and counts a class the batch lacks as 0, so
    per-batch Dice depends on how the split is cut (MNIST-seg's test split is sorted by digit: 0.40 there against
    0.72 on validation, for the same weights); split-wide sums do not.
    """

    def __init__(self, device: torch.device, num_classes: int, dice_weight: float) -> None:
        self.means = Means(device)
        self.confusion = PixelConfusion(num_classes).to(device)
        self.dice_weight = dice_weight
        self.soft = torch.zeros(2, num_classes, device=device)  # eval, per class: sum(p * onehot), sum(p)
        self.ce = torch.zeros((), device=device)  # eval: cross-entropy summed over pixels, nats
        self.images = 0

    def update(self, logits: Tensor, y: Tensor, loss: Tensor | None = None) -> None:
        n = y.shape[0]
        logits = logits.detach()
        if loss is not None:
            self.means.add("loss", loss.detach() * n, n)
        else:
            logits = logits.float()
            probs = logits.softmax(1)
            hit = y[:, None] == torch.arange(probs.shape[1], device=y.device)[:, None, None]  # bool one-hot
            self.soft[0] += (probs * hit).sum((0, 2, 3))
            self.soft[1] += probs.sum((0, 2, 3))  # + the class's pixel count, taken from the confusion matrix
            self.ce += F.cross_entropy(logits, y, reduction="sum")
        self.confusion.update(logits.argmax(1), y)
        self.images += n

    def _eval_loss(self) -> Tensor:
        """smp's DiceLoss(mode="multiclass") over the split's sums: soft Dice per class (smooth 0, eps 1e-7), 0 for a
        class absent from the targets, mean over all classes."""
        cm = self.confusion.confmat
        pixels = cm.sum(1)  # per class, in the targets
        dice = 2 * self.soft[0] / (self.soft[1] + pixels).clamp_min(1e-7)
        dice_loss = ((1 - dice) * (pixels > 0)).mean()
        return self.ce / cm.sum() + self.dice_weight * dice_loss

    def result(self) -> dict[str, float]:
        if self.images == 0:
            return {}
        loss = self.means.result()["loss"] if self.means.count("loss") else self._eval_loss().item()
        return {"loss": loss, **scores(self.confusion.confmat)}

    def count(self) -> int:
        return self.images


class Segmentation(Task):
    name = "segmentation"
    data_kind = "masks"
    metrics = (
        MetricSpec("fscore", "max", "fraction", "F1 (Dice) over pixels, macro mean of the foreground classes"),
        MetricSpec("iou", "max", "fraction", "intersection over union, macro mean of the foreground classes"),
        MetricSpec("pixel_acc", "max", "fraction", "share of pixels whose class is right, background included"),
    )
    supports = frozenset()  # no mixing, label smoothing, RandAugment or corruption robustness for masks yet

    def check(self, cfg: TrainConfig) -> None:
        input_stride(cfg.model)  # unknown model or encoder
        size = known_image_size(cfg.data)
        if size is not None:
            check_input_size(cfg.model, size, size, f"{cfg.data.name} (data.image_size)" if cfg.data.image_size
                             else cfg.data.name)
        if cfg.grad_checkpointing:
            raise ConfigError("grad_checkpointing: the segmentation models do not support it; set it to false")

    def build_model(self, cfg: ModelConfig, data: DataShape, *, grad_checkpointing: bool) -> nn.Module:
        check_input_size(cfg, data.image_size, data.image_size, "the data")  # segfolder's size is known only now
        return build_seg_model(cfg, num_classes=data.num_classes, in_chans=data.in_chans)

    def train_targets(self, cfg: TrainConfig, data: DataShape, *, batch_size: int) -> TrainTargets:
        return TrainTargets(None, SegLoss(self.cfg.dice_weight))

    def meter(self, device: torch.device, data: DataShape) -> SegMeter:
        return SegMeter(device, data.num_classes, self.cfg.dice_weight)

    def chance(self, data: DataShape) -> float:
        # A collapsed model predicts the majority class, background, everywhere: every foreground F-score is 0.
        return 0.0
