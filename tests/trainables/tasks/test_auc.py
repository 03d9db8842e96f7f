"""val/auc, test/auc: torchmetrics' BinaryAUROC of P(class 1), equal to scikit-learn's roc_auc_score, logged only
where there are two classes, with direction max in the metric table; accuracy stays."""

import math

import pytest
import torch
from sklearn.metrics import roc_auc_score

from hpstudy.schema.metrics import METRICS, direction
from trainables.config import TaskConfig, TrainConfig
from trainables.config.overrides import apply_overrides
from trainables.loop import run
from trainables.tasks import build_task
from trainables.tasks.classification import AccuracyMeter, BinaryMeter

# Fixed logits (two classes) and labels, with a tie in P(class 1) and a misordered pair: AUC is neither 0.5 nor 1.
LOGITS = torch.tensor([[0.0, 2.0], [1.0, 0.5], [0.3, 0.3], [2.0, -1.0], [0.0, 0.1], [0.2, 0.2], [-1.0, 1.0],
                       [0.5, 0.0]])
LABELS = torch.tensor([1, 0, 1, 0, 0, 1, 1, 1])


class _Shape:
    def __init__(self, num_classes: int) -> None:
        self.num_classes, self.in_chans, self.image_size = num_classes, 30, 0


def test_auc_matches_scikit_learn_over_batches():
    meter = build_task(TaskConfig()).meter(torch.device("cpu"), _Shape(2))
    assert isinstance(meter, BinaryMeter)
    meter.update(LOGITS[:3], LABELS[:3])
    meter.update(LOGITS[3:], LABELS[3:])
    result = meter.result()
    expected = roc_auc_score(LABELS.numpy(), LOGITS.softmax(1)[:, 1].numpy())
    assert 0.5 < expected < 1.0
    assert result["auc"] == pytest.approx(expected, abs=1e-6)
    assert result["acc"] == pytest.approx((LOGITS.argmax(1) == LABELS).float().mean().item())
    assert set(result) == {"loss", "acc", "auc"}


def test_one_class_split_is_nan_not_zero():
    meter = BinaryMeter(torch.device("cpu"))
    meter.update(LOGITS[:2], torch.tensor([1, 1]))
    assert math.isnan(meter.result()["auc"])


def test_only_binary_tasks_get_auc():
    meter = build_task(TaskConfig()).meter(torch.device("cpu"), _Shape(10))
    assert type(meter) is AccuracyMeter
    meter.update(torch.randn(4, 10), torch.tensor([0, 1, 2, 3]))
    assert set(meter.result()) == {"loss", "acc"}


def test_metric_table_says_higher_is_better():
    assert direction("val/auc") == "max" and direction("test/auc") == "max" and direction("test/auc_ema") == "max"
    assert METRICS["val/auc"].unit == "fraction"
    assert [m.name for m in build_task(TaskConfig()).metrics] == ["acc", "auc"]  # the lead stays acc


class _Sink:
    def __init__(self) -> None:
        self.reports = []

    def restore(self):
        return None

    def report(self, report, state):
        self.reports.append(report)


def test_a_breast_cancer_run_logs_val_and_test_auc():
    cfg = apply_overrides(TrainConfig(), {"data.name": "breast_cancer", "model.name": "tabular_mlp",
                                          "data.augment": False, "epochs": 2, "optim.lr": 0.01, "num_threads": 1})
    sink = _Sink()
    run(cfg, sink)
    last = sink.reports[-1]
    assert {"train/auc", "val/auc", "test/auc", "val/acc", "test/acc"} <= set(last)
    assert 0.5 < last["test/auc"] <= 1.0 and all(k in METRICS for k in ("train/auc", "val/auc", "test/auc"))
