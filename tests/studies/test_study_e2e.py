"""One real study through Ray Tune + Optuna TPE, Train V2, ASHA and MLflow, as a user runs it: on a CIFAR-10 copy
in the user's folder named by a relative path (trials run in Ray's folders), selecting on val/acc and measuring the
test split once at the end of each trial."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.studies.conftest import TINY, cli, store, study_runs
from trainables.data.synthetic import write_dataset

EPOCHS = 3
SAMPLES = 2  # one wave of trials on 2 cores: most of a trial's time here is Ray Train's start-up
CIFAR = ["--set", "data.name=cifar10", "--set", "data.root=data"]  # relative: resolved in the driver


@pytest.fixture(scope="module")
def search(tmp_path_factory, shared_ray):
    """With a second Ray running on the machine (the session's), as when a user runs two studies at once: Train's
    workers must still find their own cluster's State API (they hung before studies.tune.tuner pinned it)."""
    cwd = tmp_path_factory.mktemp("search")
    write_dataset("cifar10", cwd / "data")
    result = cli(["lr_warmup_dropout", "--num-samples", str(SAMPLES), *TINY, *CIFAR], cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    return cwd, result


def test_parent_run_records_the_study(search):
    cwd, _ = search
    parents, _ = study_runs(store(cwd), "lr_warmup_dropout")
    assert len(parents) == 1
    parent = parents[0]
    tags = parent.data.tags
    assert parent.info.status == "FINISHED" and tags["hpstudy.status"] == "completed"
    assert tags["hpstudy.study"] == "lr_warmup_dropout" and tags["hpstudy.profile"] == "local"
    assert tags["hpstudy.command"].startswith("python -m studies.run lr_warmup_dropout")
    assert len(tags["hpstudy.git_sha"]) >= 7
    assert tags["hpstudy.version.torch"].startswith("2.14") and tags["hpstudy.version.ray"]
    assert "never used for a decision" in tags["hpstudy.protocol"]
    base_config = Path(store(cwd).download_artifacts(parent.info.run_id, "base_config.yaml")).read_text()
    assert f"\nepochs: {EPOCHS}\n" in base_config and not any(k.startswith("base.") for k in parent.data.params)


def test_every_trial_is_a_nested_run_with_its_full_config(search):
    cwd, _ = search
    client = store(cwd)
    parents, trials = study_runs(client, "lr_warmup_dropout")
    assert len(trials) == SAMPLES
    assert {t.data.tags["mlflow.parentRunId"] for t in trials} == {parents[0].info.run_id}
    assert len({t.data.tags["hpstudy.trial_id"] for t in trials}) == SAMPLES
    for trial in trials:
        params = trial.data.params
        # The full resolved config: fixed keys, the sampled ones, and the --set overrides.
        assert {"optim.lr", "sched.warmup_epochs", "model.drop_rate", "optim.weight_decay", "model.name",
                "ses.enabled", "data.name"} <= set(params)
        assert params["data.limit_train"] == "512" and params["data.name"] == "cifar10"
        assert params["data.root"] == str(cwd / "data"), "the absolute path the trial read"
        assert 1e-3 <= float(params["optim.lr"]) <= 0.5
        assert trial.data.tags["hpstudy.seed"] == "0"


def test_metrics_are_logged_every_epoch_and_statuses_say_how_trials_ended(search):
    cwd, _ = search
    client = store(cwd)
    _, trials = study_runs(client, "lr_warmup_dropout")
    statuses = []
    for trial in trials:
        tags = trial.data.tags
        status = tags["hpstudy.status"]
        statuses.append(status)
        steps = [m.step for m in client.get_metric_history(trial.info.run_id, "val/acc")]
        assert steps == sorted(set(steps)) and steps[0] == 1, "one value per epoch, step = epoch"
        for key in ("train/loss", "train/acc", "val/loss", "lr", "sys/epoch_s", "sys/samples_per_s", "sys/peak_mem_mb"):
            assert len(client.get_metric_history(trial.info.run_id, key)) == len(steps), key
        # Only what the trainer reported: none of Tune's bookkeeping, nor the epoch axis itself.
        tune_keys = {"time_this_iter_s", "time_total_s", "training_iteration", "timestamp", "pid",
                     "time_since_restore", "iterations_since_restore", "epoch"}
        assert not tune_keys & set(trial.data.metrics), tune_keys & set(trial.data.metrics)
        test_steps = [m.step for m in client.get_metric_history(trial.info.run_id, "test/acc")]
        if status == "completed":
            assert steps == list(range(1, EPOCHS + 1)) and trial.info.status == "FINISHED"
            assert test_steps == [EPOCHS], "the test split is measured once, at the end"
            assert trial.data.metrics["test/epoch"] == EPOCHS  # checkpoint.keep=last: the last epoch's weights
        else:
            assert test_steps == [], "a trial ASHA stopped was not selected: it has no test figure"
            assert status == "early_stopped", status
            assert int(tags["hpstudy.stop_epoch"]) == steps[-1] < EPOCHS
            assert f"ASHA at epoch {steps[-1]}" in tags["hpstudy.stop_reason"]
    assert "completed" in statuses


def test_cli_prints_the_table_and_how_to_browse(search):
    _, result = search
    out = result.stdout
    assert f"lr_warmup_dropout (local): {SAMPLES} trials" in out
    assert "| config | n | val/acc (%) |" in out
    assert "selected on val/acc: " in out and " test/acc " in out
    assert "Protocol: Decisions (search, early stopping, best weights) use only a validation split" in out
    assert "mlflow ui --backend-store-uri sqlite:///" in out and "--host 127.0.0.1" in out
    assert "http://127.0.0.1:5000/#/experiments/" in out and "/runs?workflowType=machine_learning" in out
    assert "profile local" in out.splitlines()[0]
