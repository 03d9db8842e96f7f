"""How a trial's end becomes its MLflow status: completed, early-stopped by ASHA, a monitor's labelled stop, failed."""

from __future__ import annotations

import pytest

from studies import ses_beta_sweep
from studies.trial_log import TrialLog, is_metric
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


def test_only_our_metrics_go_to_mlflow():
    assert is_metric("val/acc", 0.5) and is_metric("lr", 0.1) and is_metric("loss_weight/task", 1.0)
    assert is_metric("best_epoch", 3) and is_metric("gap/train_val_acc", 0.1)
    assert not is_metric("time_this_iter_s", 1.0) and not is_metric("config/optim.lr", 0.1)
    assert not is_metric(STOP_REASON, "diverged") and not is_metric("done", True)
