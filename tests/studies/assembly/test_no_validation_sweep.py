"""A sweep that reproduces a paper (data.val_fraction=0): trained on the whole training set, the test split measured
every epoch, and the table is test/acc (slow: 10 trials, ~4 min on 2 cores)."""

from __future__ import annotations

import pytest

from tests.studies.conftest import cli, store, study_runs

EPOCHS = 2


# The study's metric, table and logging of test/acc run in seconds in test_tuner_grid.py on a closed-form trial;
# this one adds the real trainer measuring the test split every epoch.
@pytest.mark.slow
def test_a_sweep_without_validation_reports_test_acc(tmp_path):
    args = ["ses_beta_sweep", "--set", "data.val_fraction=0", "--set", "data.limit_train=512",
            "--set", f"epochs={EPOCHS}"]
    result = cli(args, tmp_path, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| config | n | test/acc (%) |" in result.stdout and "| config | n | val/acc (%) |" not in result.stdout
    assert "No validation split (data.val_fraction=0)" in result.stdout
    client = store(tmp_path)
    parents, trials = study_runs(client, "ses_beta_sweep")
    assert parents[0].data.params["study.metric"] == "test/acc"
    for trial in trials:
        steps = [m.step for m in client.get_metric_history(trial.info.run_id, "test/acc")]
        assert steps == list(range(1, EPOCHS + 1)) and "val/acc" not in trial.data.metrics
        assert trial.data.params["eval.test"] == "every_epoch"
