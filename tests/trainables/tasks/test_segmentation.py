"""The segmentation task: its loss and gradient, its scores against torchmetrics' own, and what check() refuses."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from segmentation_models_pytorch.losses import DiceLoss
from torchmetrics.functional.classification import (
    multiclass_accuracy,
    multiclass_confusion_matrix,
    multiclass_f1_score,
    multiclass_jaccard_index,
)

from trainables.config import DataConfig, ModelConfig, TaskConfig, TrainConfig
from trainables.config.overrides import ConfigError
from trainables.tasks import build_task
from trainables.tasks.segmentation import PixelConfusion, SegLoss, SegMeter, scores

C = 4  # classes in the hand-made examples: background + 3


def _logits(pred: torch.Tensor, num_classes: int = C) -> torch.Tensor:
    """Logits (B, C, H, W) whose argmax is `pred` (B, H, W)."""
    return F.one_hot(pred, num_classes).permute(0, 3, 1, 2).float() * 10


def _meter(dice_weight: float = 1.0) -> SegMeter:
    return SegMeter(torch.device("cpu"), C, dice_weight)


def test_task_declares_masks_fscore_first_and_no_optional_features():
    task = build_task(TaskConfig(name="segmentation"))
    assert (task.name, task.data_kind, task.supports) == ("segmentation", "masks", frozenset())
    assert [m.name for m in task.metrics] == ["fscore", "iou", "pixel_acc"]
    assert task.lead.direction == "max" and task.lead.unit == "fraction"


def test_loss_is_cross_entropy_plus_weighted_dice_and_has_a_gradient():
    torch.manual_seed(0)
    logits = torch.randn(2, C, 6, 6, requires_grad=True)
    target = torch.randint(0, C, (2, 6, 6))
    out = SegLoss(dice_weight=1.5)(logits, target)
    assert set(out) == {"loss", "loss_ce", "loss_dice"}
    assert torch.allclose(out["loss_ce"], F.cross_entropy(logits, target))
    assert torch.allclose(out["loss_dice"], DiceLoss(mode="multiclass")(logits, target))
    assert torch.allclose(out["loss"], out["loss_ce"] + 1.5 * out["loss_dice"])
    out["loss"].backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_loss_is_float32_under_bfloat16_logits():
    logits = torch.randn(1, C, 4, 4).bfloat16()
    out = SegLoss(1.0)(logits, torch.randint(0, C, (1, 4, 4)))
    assert all(v.dtype == torch.float32 for v in out.values())


def test_perfect_prediction_scores_one():
    target = torch.randint(0, C, (3, 8, 8))
    meter = _meter()
    meter.update(_logits(target), target)
    result = meter.result()
    assert (result["fscore"], result["iou"], result["pixel_acc"]) == (1.0, 1.0, 1.0)
    assert meter.count() == 3


def test_known_confusion():
    # 1x6 image: target 0 0 1 1 2 2, prediction 0 1 1 1 2 0. Class 1: tp 2, fp 1, fn 0 -> F1 4/5, IoU 2/3.
    # Class 2: tp 1, fp 0, fn 1 -> F1 2/3, IoU 1/2. Class 3 is absent from both: left out. Background is left out.
    target = torch.tensor([[[0, 0, 1, 1, 2, 2]]])
    pred = torch.tensor([[[0, 1, 1, 1, 2, 0]]])
    meter = _meter()
    meter.update(_logits(pred), target)
    result = meter.result()
    assert result["fscore"] == pytest.approx((4 / 5 + 2 / 3) / 2)
    assert result["iou"] == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert result["pixel_acc"] == pytest.approx(4 / 6)


def test_a_class_predicted_but_never_present_counts_as_zero():
    target = torch.tensor([[[0, 1, 1, 0]]])
    pred = torch.tensor([[[3, 1, 1, 0]]])  # class 3 hallucinated on background
    meter = _meter()
    meter.update(_logits(pred), target)
    assert meter.result()["fscore"] == pytest.approx((1.0 + 0.0) / 2)


def test_scores_equal_torchmetrics_per_class_means_over_the_foreground():
    torch.manual_seed(1)
    target = torch.randint(0, C, (4, 16, 16))
    pred = torch.where(torch.rand(4, 16, 16) < 0.7, target, torch.randint(0, C, (4, 16, 16)))
    meter = _meter()
    for i in range(4):  # accumulated batch by batch, scored once
        meter.update(_logits(pred[i:i + 1]), target[i:i + 1])
    result = meter.result()
    f1 = multiclass_f1_score(pred, target, C, average="none")
    iou = multiclass_jaccard_index(pred, target, C, average="none")
    assert result["fscore"] == pytest.approx(f1[1:].mean().item())
    assert result["iou"] == pytest.approx(iou[1:].mean().item())
    assert result["pixel_acc"] == pytest.approx(multiclass_accuracy(pred, target, C, average="micro").item())


def test_sync_free_update_counts_as_torchmetrics_does():
    torch.manual_seed(2)
    target, pred = torch.randint(0, 5, (3, 7, 9)), torch.randint(0, 5, (3, 7, 9))
    confusion = PixelConfusion(5)
    confusion.update(pred[:2], target[:2])
    confusion.update(pred[2:], target[2:])
    assert torch.equal(confusion.compute(), multiclass_confusion_matrix(pred, target, 5))


def test_no_foreground_anywhere_scores_zero_not_nan():
    cm = torch.zeros(C, C, dtype=torch.long)
    cm[0, 0] = 10
    assert scores(cm) == {"fscore": 0.0, "iou": 0.0, "pixel_acc": 1.0}


def test_eval_loss_is_the_training_criterion_on_the_whole_split_whatever_the_batches():
    torch.manual_seed(3)
    logits, target = torch.randn(6, C, 5, 5), torch.randint(0, C, (6, 5, 5))
    target[:3] = target[:3].clamp(max=1)  # the first batch lacks classes 2 and 3: per-batch Dice would differ
    meter = _meter(dice_weight=0.5)
    for part in (slice(0, 3), slice(3, 6)):
        meter.update(logits[part], target[part])  # loss=None: evaluation
    assert meter.result()["loss"] == pytest.approx(SegLoss(0.5)(logits, target)["loss"].item(), rel=1e-5)


def test_training_loss_is_the_mean_of_the_steps_losses_over_images():
    meter = _meter()
    for n, loss in ((4, 1.0), (2, 4.0)):
        meter.update(torch.zeros(n, C, 2, 2), torch.zeros(n, 2, 2, dtype=torch.long), torch.tensor(loss))
    assert meter.result()["loss"] == pytest.approx((4 * 1.0 + 2 * 4.0) / 6)


def _cfg(**sections) -> TrainConfig:
    cfg = TrainConfig(task=TaskConfig(name="segmentation"), data=DataConfig(name="mnist_seg"),
                      model=ModelConfig(name="small_unet"))
    return replace(cfg, **sections)


def test_check_accepts_small_unet_and_unet_on_28x28_digits():
    task = build_task(TaskConfig(name="segmentation"))
    task.check(_cfg())
    task.check(_cfg(model=ModelConfig(name="unet", encoder="resnet18")))  # smp's Unet pads itself (smp >= 0.5)


@pytest.mark.parametrize(("sections", "message"), [
    ({"model": ModelConfig(name="resnet18")}, r"model.name: 'resnet18' is not a segmentation model; valid names: "
                                              r"small_unet, Unet, .*FPN"),
    ({"model": ModelConfig(name="Unet", encoder="resnet9000")},
     r"model.encoder: 'resnet9000' is not a segmentation-models-pytorch encoder; valid: resnet18"),
    ({"model": ModelConfig(name="FPN")}, r"needs H and W divisible by 32 .* mnist_seg is 28x28; resize to 32x32"),
    ({"grad_checkpointing": True}, r"grad_checkpointing"),
])
def test_check_refuses_with_one_line(sections, message):
    with pytest.raises(ConfigError, match=message) as err:
        build_task(TaskConfig(name="segmentation")).check(_cfg(**sections))
    assert "\n" not in str(err.value)


def test_build_model_checks_the_size_only_the_data_knows():
    task = build_task(TaskConfig(name="segmentation"))
    data = type("Shape", (), {"num_classes": 3, "in_chans": 3, "image_size": 40})()
    with pytest.raises(ConfigError, match="divisible by 32 .* 40x40; resize to 64x64"):
        task.build_model(ModelConfig(name="FPN"), data, grad_checkpointing=False)
    model = task.build_model(ModelConfig(name="small_unet"), data, grad_checkpointing=False)
    assert model(torch.randn(1, 3, 40, 40)).shape == (1, 3, 40, 40)


def test_train_targets_mix_nothing_and_chance_is_an_all_background_prediction():
    task = build_task(TaskConfig(name="segmentation", dice_weight=2.0))
    targets = task.train_targets(_cfg(), None, batch_size=8)
    assert targets.mix_fn is None and targets.criterion.dice_weight == 2.0
    assert task.chance(None) == 0.0
