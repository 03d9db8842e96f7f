"""A grid study through the CLI, Ray Tune and MLflow on a closed-form trial: every grid point once per repeat, one
nested run per trial with each epoch's metrics at step=epoch, how each trial ended (completed, failed, a labelled
stop), the exit code and the closing lines; a sweep without a validation split; a study whose every trial failed."""

from __future__ import annotations

from collections import Counter

import pytest

from studies import registry
from tests.studies.closed_form import FAILURE, ClosedForm, accuracy, always, ses_beta_is
from tests.studies.conftest import store, study_runs
from trainables.config.overrides import apply_overrides

EPOCHS = 3
REPEATS = 2  # --num-samples of a grid: repeats of the whole grid
VARIANTS = ("baseline", "beta=0.3", "beta=0.5", "beta=0.7", "beta=0.9")
SEEDS = ("3",)  # --seeds 3: the study's own seeds (0, 1) replaced, through Tune
FAILS, DIVERGES = "beta=0.9", "beta=0.7"  # the variants whose trials raise, and stop themselves as diverged
TUNE_KEYS = {"time_this_iter_s", "time_total_s", "training_iteration", "timestamp", "pid", "time_since_restore",
             "iterations_since_restore", "epoch"}  # Tune's bookkeeping and the epoch axis: never MLflow metrics


def _cfg(trial):
    """The config the trial ran: the study's base with this test's --set, its variant and its seed."""
    name, seed = trial.data.tags["hpstudy.config_name"], trial.data.tags["hpstudy.seed"]
    variant = {"ses.enabled": False} if name == "baseline" else {"ses.enabled": True, "ses.beta": name.split("=")[1]}
    base = registry.load("ses_beta_sweep").get_study("local").base
    return apply_overrides(base, {"epochs": EPOCHS, "seed": seed, **variant})


def _by_config(trials) -> dict[str, list]:
    out: dict[str, list] = {}
    for trial in trials:
        out.setdefault(trial.data.tags["hpstudy.config_name"], []).append(trial)
    return out


@pytest.fixture(scope="module")
def grid(run_study, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("grid")
    trial = ClosedForm(fails=ses_beta_is(0.9), diverges=ses_beta_is(0.7))
    result = run_study(["ses_beta_sweep", "--set", f"epochs={EPOCHS}", "--num-samples", str(REPEATS),
                        "--seeds", ",".join(SEEDS)], cwd, trial)
    return cwd, result


def test_every_grid_point_runs_once_per_repeat_as_a_nested_run(grid):
    cwd, _ = grid
    parents, trials = study_runs(store(cwd), "ses_beta_sweep")
    assert len(parents) == 1
    points = Counter((t.data.tags["hpstudy.config_name"], t.data.tags["hpstudy.seed"]) for t in trials)
    assert points == {(v, s): REPEATS for v in VARIANTS for s in SEEDS}
    assert len({t.data.tags["hpstudy.trial_id"] for t in trials}) == len(trials)
    assert {t.data.tags["mlflow.parentRunId"] for t in trials} == {parents[0].info.run_id}
    for trial in trials:  # the full resolved config: the variant's keys, the seed and the --set override
        params, name = trial.data.params, trial.data.tags["hpstudy.config_name"]
        assert params["ses.enabled"] == str(name != "baseline") and params["epochs"] == str(EPOCHS)
        if name != "baseline":
            assert params["ses.beta"] == name.split("=")[1] and params["ses.lam"] == "0.01"
        assert params["seed"] == trial.data.tags["hpstudy.seed"]


def test_parent_run_records_the_study(grid):
    cwd, _ = grid
    parent = study_runs(store(cwd), "ses_beta_sweep")[0][0]
    tags, params = parent.data.tags, parent.data.params
    # FINISHED and completed: some trials gave a result (tests/studies/cli/test_exit_status.py has the rule)
    assert parent.info.status == "FINISHED" and tags["hpstudy.status"] == "completed"
    assert tags["hpstudy.failed_trials"] == f"{len(SEEDS) * REPEATS} of {len(VARIANTS) * len(SEEDS) * REPEATS}"
    assert tags["hpstudy.study"] == "ses_beta_sweep" and tags["hpstudy.profile"] == "local"
    assert tags["hpstudy.command"].startswith("python -m studies.run ses_beta_sweep --set epochs=3")
    assert len(tags["hpstudy.git_sha"]) >= 7 and tags["hpstudy.version.ray"] and tags["hpstudy.baseline"]
    assert "never used for a decision" in tags["hpstudy.protocol"]
    assert (params["study.search"], params["study.num_samples"]) == ("grid", "2")


def test_each_epoch_is_logged_at_its_step_with_what_the_trial_reported(grid):
    cwd, _ = grid
    client = store(cwd)
    completed = [t for t in study_runs(client, "ses_beta_sweep")[1]
                 if t.data.tags["hpstudy.config_name"] not in (FAILS, DIVERGES)]
    assert len(completed) == 3 * len(SEEDS) * REPEATS
    for trial in completed:
        run_id, cfg = trial.info.run_id, _cfg(trial)
        history = client.get_metric_history(run_id, "val/acc")
        assert [m.step for m in history] == list(range(1, EPOCHS + 1)), "one value per epoch, step = epoch"
        assert [m.value for m in history] == pytest.approx([accuracy(cfg, e) for e in range(1, EPOCHS + 1)])
        for key in ("train/loss", "train/acc", "val/loss", "lr"):
            assert len(client.get_metric_history(run_id, key)) == EPOCHS, key
        assert [m.step for m in client.get_metric_history(run_id, "test/acc")] == [EPOCHS], "test once, at the end"
        assert trial.data.metrics["test/epoch"] == EPOCHS
        assert not TUNE_KEYS & set(trial.data.metrics), TUNE_KEYS & set(trial.data.metrics)
        assert trial.info.status == "FINISHED" and trial.data.tags["hpstudy.status"] == "completed"
        assert trial.data.tags["hpstudy.stop_epoch"] == str(EPOCHS)


def test_failed_trials_exit_3_with_one_line_per_distinct_error(grid):
    cwd, result = grid
    assert result.returncode == 3, result.stderr[-3000:]
    failed, total = len(SEEDS) * REPEATS, len(VARIANTS) * len(SEEDS) * REPEATS
    closing = result.stderr[result.stderr.index(f"{failed} of {total} trials failed:"):].splitlines()
    assert closing[:2] == [f"{failed} of {total} trials failed:", f"  RuntimeError: {FAILURE}  ({failed} trials)"]
    assert len(closing) == 3 and closing[2].startswith("tracebacks: ")  # the log of Ray's tracebacks
    for trial in _by_config(study_runs(store(cwd), "ses_beta_sweep")[1])[FAILS]:
        assert trial.info.status == "FAILED" and trial.data.tags["hpstudy.status"] == "failed"
        assert trial.data.tags["hpstudy.stop_reason"] == f"RuntimeError: {FAILURE}"


def test_a_labelled_stop_is_a_result_with_its_reason(grid):
    cwd, _ = grid
    client = store(cwd)
    for trial in _by_config(study_runs(client, "ses_beta_sweep")[1])[DIVERGES]:  # its own monitor stopped it
        tags = trial.data.tags
        assert trial.info.status == "FINISHED" and tags["hpstudy.status"] == "diverged"
        assert tags["hpstudy.stop_reason"] == "non-finite loss (nan) at step 17" and tags["hpstudy.stop_epoch"] == "2"
        assert [m.step for m in client.get_metric_history(trial.info.run_id, "val/acc")] == [1, 2]


def test_cli_prints_the_table_and_how_to_browse(grid):
    _, result = grid
    out = result.stdout
    assert "profile local" in out.splitlines()[0]
    assert f"ses_beta_sweep (local): {len(VARIANTS) * len(SEEDS) * REPEATS} trials" in out
    assert "| config | n | val/acc (%) |" in out and f"| baseline | {len(SEEDS) * REPEATS} |" in out
    assert "mlflow ui --backend-store-uri sqlite:///" in out and "--host 127.0.0.1" in out


def test_a_sweep_without_validation_selects_and_reports_on_the_test_split(run_study, tmp_path):
    result = run_study(["ses_beta_sweep", "--set", "data.val_fraction=0", "--set", "epochs=2", "--seeds", "0"], tmp_path,
                       ClosedForm())
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| config | n | test/acc (%) |" in result.stdout and "| config | n | val/acc (%) |" not in result.stdout
    assert "No validation split (data.val_fraction=0)" in result.stdout
    client = store(tmp_path)
    parents, trials = study_runs(client, "ses_beta_sweep")
    assert parents[0].data.params["study.metric"] == "test/acc" and len(trials) == 5  # the 5 variants, 1 seed
    for trial in trials:
        assert [m.step for m in client.get_metric_history(trial.info.run_id, "test/acc")] == [1, 2]
        assert "val/acc" not in trial.data.metrics and trial.data.params["eval.test"] == "every_epoch"


def test_a_study_whose_every_trial_failed_is_failed(run_study, tmp_path):
    result = run_study(["lr_warmup_dropout", "--num-samples", "2"], tmp_path, ClosedForm(fails=always))
    assert result.returncode == 3, result.stderr[-3000:]
    closing = result.stderr[result.stderr.index("2 of 2 trials failed:"):].splitlines()
    assert closing[:2] == ["2 of 2 trials failed:", f"  RuntimeError: {FAILURE}  (2 trials)"]
    assert closing[2:3] and closing[2].startswith("tracebacks: ")
    parents, trials = study_runs(store(tmp_path), "lr_warmup_dropout")
    assert parents[0].info.status == "FAILED" and parents[0].data.tags["hpstudy.status"] == "failed"
    assert parents[0].data.tags["hpstudy.failed_trials"] == "2 of 2"
    assert [t.data.tags["hpstudy.status"] for t in trials] == ["failed", "failed"]


def test_tune_writes_only_the_result_file_its_result_grid_reads(grid):
    """Tune's CSV and TensorBoard loggers are off: MLflow holds the results, and tensorboardX printed "NaN or Inf
    found in input tensor." on the terminal for each non-finite value a trial reported. Its JSON logger stays: the
    ResultGrid that ends `fit` warns for each trial without result.json."""
    cwd, _ = grid
    storage = cwd / "hpstudy_runs" / "ray" / "ses_beta_sweep"
    trials = list(storage.glob("*/trial_*"))
    assert trials, "the trials' folders are where this test looks"
    assert not [p for pattern in ("progress.csv", "events.out.tfevents*") for p in storage.glob(f"*/trial_*/{pattern}")]
    assert all((t / "result.json").is_file() for t in trials)


def test_a_failed_trials_traceback_goes_to_a_log_and_the_terminal_keeps_one_line(grid):
    cwd, result = grid
    assert "Traceback" not in result.stderr and "Trial task failed" not in result.stderr
    log = next(line for line in result.stderr.splitlines() if line.startswith("tracebacks: "))
    text = open(log.split(": ", 1)[1]).read()
    assert "Trial task failed" in text and FAILURE in text and "Traceback" in text
