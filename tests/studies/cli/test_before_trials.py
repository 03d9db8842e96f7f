"""`--lr-range STEPS`: an LR range test on the base config first, then every trial trains at the suggested LR."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from studies.assembly.assemble import build_study
from studies.catalog import ses_beta_sweep
from studies.cli.before_trials import lr_range
from studies.tracking.tracker import StudyTracker
from tests.studies.conftest import cli, store, study_runs


def test_the_step_runs_the_sweep_on_a_trials_resources_and_logs_curve_and_pick(tmp_path):
    study = build_study(ses_beta_sweep, "local", {"data.limit_train": "256"}, None)  # as the CLI builds it
    calls = []

    def run_once(fn, *args, cpus, gpus, **kwargs):  # the Tune adapter's, minus Ray: same call, this process
        calls.append((cpus, gpus))
        return fn(*args, **kwargs)

    tracker = StudyTracker(f"sqlite:///{tmp_path / 'mlflow.db'}", study.name, tmp_path / "mlartifacts")
    tracker.start_study("lr", {}, {})
    suggestion = lr_range(study, 30, tracker, tmp_path, SimpleNamespace(run_once=run_once))
    assert calls == [(study.cpus_per_trial, study.gpus_per_trial)]
    assert 1e-5 <= float(suggestion) <= 10
    parent = tracker.client.get_run(tracker.parent_run_id)
    assert parent.data.params["lr_range.suggestion"] == suggestion
    artifacts = {a.path for a in tracker.client.list_artifacts(tracker.parent_run_id, "lr_range")}
    assert artifacts == {"lr_range/lr_range.csv", "lr_range/lr_range.png"}


@pytest.mark.slow
def test_lr_range_step_sets_every_trials_lr(tmp_path):
    args = ["ses_beta_sweep", "--lr-range", "30", "--set", "data.limit_train=256", "--set", "epochs=1"]
    result = cli(args, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    client = store(tmp_path)
    parents, trials = study_runs(client, "ses_beta_sweep")
    suggestion = parents[0].data.params["lr_range.suggestion"]
    assert f"optim.lr={suggestion}" in result.stdout
    assert {float(t.data.params["optim.lr"]) for t in trials} == {float(suggestion)}
    artifacts = {a.path for a in client.list_artifacts(parents[0].info.run_id, "lr_range")}
    assert artifacts == {"lr_range/lr_range.csv", "lr_range/lr_range.png"}
