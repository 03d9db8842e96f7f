"""How a trial's end becomes its MLflow status: completed, early-stopped by ASHA, a monitor's labelled stop, failed."""

from __future__ import annotations

import pytest

from studies.catalog import ses_beta_sweep
from studies.tracking.trial_log import TrialLog, is_metric
from trainables.loop import STOP_DETAIL, STOP_REASON


class FakeTracker:
    def __init__(self):
        self.ended = {}

    def trial_ended(self, trial_id, status, reason="", stop_epoch=None):
        self.ended[trial_id] = (status, reason, stop_epoch)


@pytest.mark.parametrize("kind, last, expected", [
    ("complete", {"epoch": 4}, ("completed", "", 4)),
    ("complete", {"epoch": 2}, ("early_stopped", "stopped by ASHA at epoch 2", 2)),
    ("complete", {"epoch": 3, STOP_REASON: "diverged", STOP_DETAIL: "non-finite loss (nan) at step 107"},
     ("diverged", "non-finite loss (nan) at step 107", 3)),
    ("complete", {"epoch": 2, STOP_REASON: "early_stopped", STOP_DETAIL: "no val/acc gain > 0 for 30 epochs"},
     ("early_stopped", "no val/acc gain > 0 for 30 epochs", 2)),
    ("error", {"epoch": 1}, ("failed", "RuntimeError: boom", 1)),
])
def test_how_a_trial_ended_becomes_its_status(kind, last, expected):
    tracker = FakeTracker()
    log = TrialLog(ses_beta_sweep.get_study("local"), tracker)  # 4 epochs
    log.ended("t1", kind, last, "RuntimeError: boom" if kind == "error" else "")
    assert tracker.ended["t1"] == expected


def test_every_number_the_trainer_reports_goes_to_mlflow_but_not_its_axes_or_texts():
    assert is_metric("val/acc", 0.5) and is_metric("lr", 0.1) and is_metric("best_epoch", 3)
    assert is_metric("custom/new_metric", 1.0)  # no registry to update when the trainer reports something new
    assert not is_metric("epoch", 3) and not is_metric("step", 120)  # MLflow's step, not a metric
    assert not is_metric(STOP_REASON, "diverged") and not is_metric("done", True)


class RecordingTracker(FakeTracker):
    def __init__(self):
        super().__init__()
        self.metrics = []

    def trial_metrics(self, trial_id, metrics, step, only_if_missing=False):
        self.metrics.append((trial_id, metrics, step))


def test_a_result_is_logged_at_its_epoch_with_all_its_metrics():
    tracker = RecordingTracker()
    log = TrialLog(ses_beta_sweep.get_study("local"), tracker)
    log.result("t1", {"epoch": 2, "step": 70, "val/acc": 0.9, "rob/acc/fog": 0.4, "my/new": 1.5,
                      STOP_REASON: "collapsed", STOP_DETAIL: "val/acc at chance"})
    assert tracker.metrics == [("t1", {"val/acc": 0.9, "rob/acc/fog": 0.4, "my/new": 1.5}, 2)]
