"""What a researcher sees of a study, through the CLI, Ray Tune and MLflow on a closed-form trial: one progress line
(per-epoch lines with -v), the link to the study's runs, the study run's summary, each trial's config and history."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.studies.closed_form import ClosedForm
from tests.studies.conftest import store, study_runs

SAMPLES, EPOCHS = 4, 3


@pytest.fixture(scope="module")
def search(run_study, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("view")
    result = run_study(["lr_warmup_dropout", "--num-samples", str(SAMPLES), "--set", f"epochs={EPOCHS}"], cwd,
                       ClosedForm())
    assert result.returncode == 0, result.stderr[-3000:]
    parents, trials = study_runs(store(cwd), "lr_warmup_dropout")
    return result, parents[0], trials, store(cwd)


def _text(client, run_id: str, path: str) -> str:
    return Path(client.download_artifacts(run_id, path)).read_text()


def test_the_terminal_shows_a_progress_line_and_the_link_to_the_runs(search):
    result, parent, _, _ = search
    lines = result.stdout.splitlines()
    assert not [ln for ln in lines if ": epoch " in ln], "per-epoch lines only with -v"
    progress = [ln for ln in lines if ln.startswith("trials ")]
    assert progress and progress[-1].startswith(f"trials {SAMPLES}/{SAMPLES} done, 0 running, 0 queued")
    assert "ETA 0s | best val/acc 0." in progress[-1]
    link = f"http://127.0.0.1:5000/#/experiments/{parent.info.experiment_id}/runs?workflowType=machine_learning"
    assert f"this study's runs: {link}" in lines


def test_the_study_run_ends_with_the_studys_summary(search):
    _, parent, trials, client = search
    metrics, tags = parent.data.metrics, parent.data.tags
    assert metrics["trials/total"] == SAMPLES
    assert metrics["trials/completed"] + metrics["trials/early_stopped"] == SAMPLES and metrics["trials/failed"] == 0
    completed = [t for t in trials if t.data.tags["hpstudy.status"] == "completed"]  # as the report selects
    best = max(completed, key=lambda t: t.data.metrics["val/acc"])
    assert metrics["best/val/acc"] == best.data.metrics["val/acc"]
    assert tags["hpstudy.best_trial_run_id"] == best.info.run_id
    assert tags["hpstudy.best_config"] == best.data.tags["hpstudy.config_name"]
    assert [t.info.run_id for t in trials if t.data.tags.get("hpstudy.best") == "true"] == [best.info.run_id]
    assert not [k for k in parent.data.params if k.startswith("base.")], "the base config is base_config.yaml"
    assert f"\nepochs: {EPOCHS}\n" in _text(client, parent.info.run_id, "base_config.yaml")
    assert "best val/acc" in _text(client, parent.info.run_id, "summary.md")


def test_each_trial_run_has_its_config_history_and_study(search):
    _, parent, trials, client = search
    for trial in trials:
        tags, params = trial.data.tags, trial.data.params
        assert tags["hpstudy.study"] == "lr_warmup_dropout" and tags["mlflow.parentRunId"] == parent.info.run_id
        assert all(v != "" for v in tags.values()), "no empty tags"
        assert params["ses.enabled"] == "False" and not [k for k in params if k.startswith("ses.") and
                                                         k != "ses.enabled"], "SES is off: its values do not apply"
        assert f"lr: {params['optim.lr']}" in _text(client, trial.info.run_id, "config.yaml")
        with open(client.download_artifacts(trial.info.run_id, "history.csv")) as f:
            rows = list(csv.DictReader(f))
        steps = [m.step for m in client.get_metric_history(trial.info.run_id, "val/acc")]
        assert [int(r["epoch"]) for r in rows] == steps and "val/acc" in rows[0] and "lr" in rows[0]


def test_verbose_prints_a_line_per_epoch_and_per_trial_end(run_study, tmp_path):
    result = run_study(["lr_warmup_dropout", "--num-samples", "1", "--set", "epochs=2", "-v"], tmp_path, ClosedForm())
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert ": epoch 1/2 val/acc=" in out and ": epoch 2/2 val/acc=" in out and ": completed" in out
