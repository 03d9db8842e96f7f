"""StudyTracker on a real (temporary SQLite) MLflow store, without Ray: what the parent and the trial runs carry, and
the study's summary when it ends."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from studies.tracking.tracker import StudyTracker
from trainables.config import MonitorConfig
from trainables.watch.stops import RETRY_CHANGES


@pytest.fixture(scope="module")
def uri(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"  # one store: its set-up takes seconds


def _artifact(client: MlflowClient, run_id: str, path: str) -> str:
    with open(client.download_artifacts(run_id, path)) as f:
        return f.read()


def _study(uri, tmp_path, name):
    tracker = StudyTracker(uri, name, tmp_path / "mlartifacts")
    tracker.start_study(f"{name}-1", {"hpstudy.profile": "local", "hpstudy.notes": ""}, {"study.metric": "val/acc"})
    return tracker


def _trial(tracker, trial_id, name, seed, accs, status, reason=""):
    tracker.trial_started(trial_id, name=name, seed=seed, params={"optim.lr": 0.1, "seed": seed},
                          config={"optim": {"lr": 0.1}, "seed": seed})
    for epoch, acc in enumerate(accs, 1):
        tracker.trial_metrics(trial_id, {"train/loss": 1 - acc, "val/acc": acc}, epoch)
    tracker.trial_ended(trial_id, status, reason, len(accs))


def test_parent_and_trial_runs_carry_what_a_researcher_reads(uri, tmp_path):
    tracker = _study(uri, tmp_path, "carry")
    tracker.log_base_config({"epochs": 3, "optim": {"lr": 0.1, "name": "sgd"}})
    _trial(tracker, "t0", "lr=0.1", 0, [0.5, 0.7], "completed")
    client = tracker.client
    parent = client.get_run(tracker.parent_run_id)
    assert parent.data.tags["hpstudy.role"] == "study" and parent.data.tags["hpstudy.status"] == "running"
    assert "hpstudy.notes" not in parent.data.tags, "no empty tags"
    assert parent.data.params == {"study.metric": "val/acc"}
    assert "optim:\n  lr: 0.1\n" in _artifact(client, tracker.parent_run_id, "base_config.yaml")
    trial = client.search_runs([tracker.experiment_id()], "tags.`hpstudy.trial_id` = 't0'")[0]
    assert trial.data.tags["hpstudy.study"] == "carry"
    assert trial.data.tags["mlflow.parentRunId"] == tracker.parent_run_id
    assert trial.info.run_name == "lr=0.1 seed=0 [t0]" and trial.info.status == "FINISHED"
    assert "hpstudy.stop_reason" not in trial.data.tags, "a trial that just completed has no empty stop reason"
    assert trial.data.tags["hpstudy.stop_epoch"] == "2"
    assert "seed: 0" in _artifact(client, trial.info.run_id, "config.yaml")
    rows = list(csv.DictReader(io.StringIO(_artifact(client, trial.info.run_id, "history.csv"))))
    assert [r["epoch"] for r in rows] == ["1", "2"] and [float(r["val/acc"]) for r in rows] == [0.5, 0.7]
    assert set(rows[0]) == {"epoch", "train/loss", "val/acc"}


def test_a_resumed_trial_loses_the_reason_it_was_interrupted_for(uri, tmp_path):
    tracker = _study(uri, tmp_path, "resume")
    _trial(tracker, "t0", "a", 0, [0.5], "interrupted", "study interrupted; --resume continues it")
    tracker.close()  # the first driver's end
    again = StudyTracker(uri, "resume", tmp_path / "mlartifacts")  # a new driver process, as after --resume
    again.resume_study(tracker.parent_run_id)
    again.trial_started("t0", name="a", seed=0, params={"optim.lr": 0.1, "seed": 0})
    again.trial_metrics("t0", {"train/loss": 0.4, "val/acc": 0.6}, 2)
    again.trial_ended("t0", "completed", "", 2)
    runs = again.client.search_runs([again.experiment_id()], "tags.`hpstudy.trial_id` = 't0'")
    assert len(runs) == 1, "the trial continued its own run"
    assert runs[0].data.tags["hpstudy.status"] == "completed" and "hpstudy.stop_reason" not in runs[0].data.tags


def test_the_study_run_ends_with_its_summary_and_the_best_trial_is_tagged(uri, tmp_path):
    tracker = _study(uri, tmp_path, "summary")
    _trial(tracker, "t0", "lr=0.1", 0, [0.5, 0.7], "completed")
    _trial(tracker, "t1", "lr=0.1", 1, [0.5, 0.8], "completed")
    _trial(tracker, "t2", "lr=1", 0, [0.3], "early_stopped", "stopped by ASHA at epoch 1")
    _trial(tracker, "t3", "lr=9", 0, [], "failed", "RuntimeError: boom")
    tracker.end_study("completed", {"hpstudy.failed_trials": "1 of 4"}, tracker.summarize("val/acc", "max"))
    client = tracker.client
    parent = client.get_run(tracker.parent_run_id)
    assert parent.info.status == "FINISHED" and parent.data.tags["hpstudy.status"] == "completed"
    assert parent.data.metrics == {"trials/total": 4, "trials/completed": 2, "trials/early_stopped": 1,
                                   "trials/failed": 1, "best/val/acc": 0.8}
    assert parent.data.tags["hpstudy.best_config"] == "lr=0.1" and parent.data.tags["hpstudy.best_trial_id"] == "t1"
    best = client.search_runs([tracker.experiment_id()], "tags.`hpstudy.best` = 'true'")
    assert [r.data.tags["hpstudy.trial_id"] for r in best] == ["t1"]
    assert parent.data.tags["hpstudy.best_trial_run_id"] == best[0].info.run_id
    summary = _artifact(client, tracker.parent_run_id, "summary.md")
    assert "best val/acc 0.8: lr=0.1 seed=1 [t1]" in summary and "| lr=0.1 | 2 | 0.75 |" in summary
    assert "lr=1" not in summary.split("| config |")[1], "an early-stopped trial is not in the per-config means"


def test_a_later_summary_moves_the_best_tag(uri, tmp_path):
    tracker = _study(uri, tmp_path, "moves")
    _trial(tracker, "t0", "a", 0, [0.5], "completed")
    tracker.end_study("interrupted", summary=tracker.summarize("val/acc", "max"))
    _trial(tracker, "t1", "b", 0, [0.9], "completed")  # ran after --resume
    tracker.end_study("completed", summary=tracker.summarize("val/acc", "max"))
    best = tracker.client.search_runs([tracker.experiment_id()], "tags.`hpstudy.best` = 'true'")
    assert [r.data.tags["hpstudy.trial_id"] for r in best] == ["t1"]


def test_each_epoch_reaches_mlflow_once_and_a_checkpointed_one_is_backfilled(uri, tmp_path):
    # Ctrl-C twice and --resume once left `val/acc` at steps [1, 2, 3, 3]: a re-sent epoch must not log again, and
    # an epoch checkpointed but never reported must still arrive, with the trial's true ending.
    from studies.study import Study
    from studies.tracking.trial_log import TrialLog
    from trainables.config import TrainConfig

    tracker = _study(uri, tmp_path, "once")
    saved = {"epoch": 3, "stop": None,
             "history": [{"epoch": e, "train/loss": 1.0 / e, "val/acc": 0.5 + e / 10} for e in (1, 2, 3)]}
    study = Study(name="once", profile="local", base=TrainConfig(epochs=3), space={})
    log = TrialLog(study, tracker, checkpointed=lambda trial_id: saved)
    log.started("t0", {})
    for epoch in (1, 2, 2):  # the resumed trial re-sends epoch 2; epoch 3 was checkpointed, never reported
        log.result("t0", saved["history"][epoch - 1])
    log.ended("t0", "complete", saved["history"][1], "")  # Tune's last result: epoch 2
    run = tracker.client.get_run(tracker.run_id("t0"))
    steps = [m.step for m in tracker.client.get_metric_history(run.info.run_id, "val/acc")]
    assert steps == [1, 2, 3]
    assert run.data.tags["hpstudy.status"] == "completed" and run.data.tags["hpstudy.stop_epoch"] == "3"


def test_an_out_of_memory_retrys_config_change_is_on_the_trials_run(uri, tmp_path):
    import json

    import yaml

    from studies.study import Study
    from studies.tracking.trial_log import TrialLog
    from trainables.config import TrainConfig
    from trainables.loop import CONFIG_CHANGE

    tracker = _study(uri, tmp_path, "oom")
    base = TrainConfig(epochs=2, monitor=MonitorConfig(oom_retry=True))
    log = TrialLog(Study(name="oom", profile="local", base=base, space={}), tracker)
    changed = {"data.batch_size": 64, "accum_steps": 2, "monitor.oom_retry": False}
    for trial_id, oom_epoch in (("t0", 1), ("t1", 2)):
        log.started(trial_id, {})
        for epoch in (1, 2):
            log.result(trial_id, {"epoch": epoch, "train/loss": 1.0,
                                  **({CONFIG_CHANGE: json.dumps(changed)} if epoch == oom_epoch else {})})
    first, later = (tracker.client.get_run(tracker.run_id(t)) for t in ("t0", "t1"))
    for run in first, later:
        assert run.data.tags["hpstudy.config_changed"] == "accum_steps=2, data.batch_size=64, monitor.oom_retry=False"
        path = tracker.client.download_artifacts(run.info.run_id, "config.yaml", str(tmp_path))
        config = yaml.safe_load(Path(path).read_text())
        assert config["data"]["batch_size"] == 64 and config["accum_steps"] == 2
    # The retry in the first epoch: every epoch trained with half the batch, and the params say so.
    assert {k: first.data.params[k] for k in RETRY_CHANGES} == {"data.batch_size": "64", "accum_steps": "2",
                                                               "monitor.oom_retry": "False"}
    # After epoch 1 had trained with 128, MLflow keeps the logged params: the tag says what changed.
    assert {k: later.data.params[k] for k in RETRY_CHANGES} == {"data.batch_size": "128", "accum_steps": "1",
                                                               "monitor.oom_retry": "True"}


def test_a_trial_without_oom_retry_logs_its_batch_when_it_starts(uri, tmp_path):
    from studies.study import Study
    from studies.tracking.trial_log import TrialLog
    from trainables.config import TrainConfig

    tracker = _study(uri, tmp_path, "no_retry")
    log = TrialLog(Study(name="no_retry", profile="local", base=TrainConfig(epochs=2), space={}), tracker)
    log.started("t0", {})
    params = tracker.client.get_run(tracker.run_id("t0")).data.params
    assert params["data.batch_size"] == "128" and params["accum_steps"] == "1"


def test_a_retrying_trial_that_never_reported_has_its_params_when_it_ends(uri, tmp_path):
    from studies.study import Study
    from studies.tracking.trial_log import TrialLog
    from trainables.config import TrainConfig

    tracker = _study(uri, tmp_path, "no_report")
    base = TrainConfig(epochs=2, monitor=MonitorConfig(oom_retry=True))
    log = TrialLog(Study(name="no_report", profile="local", base=base, space={}), tracker)
    log.started("t0", {})
    assert "data.batch_size" not in tracker.client.get_run(tracker.run_id("t0")).data.params
    log.ended("t0", "error", {}, "boom")
    assert tracker.client.get_run(tracker.run_id("t0")).data.params["data.batch_size"] == "128"


def test_trial_writes_are_queued_in_order_and_a_failed_one_is_raised_once_at_the_next_flush(uri, tmp_path,
                                                                                            monkeypatch):
    import studies.tracking.tracker as tracker_module

    # Trial starts, epochs and ends go to one writer, so Tune's loop does not wait on the store; every read, and
    # Tune's snapshot (studies.tune.events), waits for them. A study started in this session asks the store nothing
    # per trial (it once searched all runs).
    tracker = _study(uri, tmp_path, "queued")
    searches = []
    monkeypatch.setattr(tracker.client, "search_runs", lambda *a, **k: searches.append(a) or [])
    _trial(tracker, "t0", "lr=0.1", 0, [0.5, 0.6, 0.7], "completed")
    assert searches == []
    history = tracker.client.get_metric_history(tracker.run_id("t0"), "val/acc")
    assert [(m.step, m.value) for m in history] == [(1, 0.5), (2, 0.6), (3, 0.7)]
    assert tracker._rows == {} and tracker._epochs == {}  # nothing per trial outlives its end

    store = tracker._store()
    real = store.log_batch

    def full_disk(run_id, metrics=(), params=(), tags=()):
        if metrics:
            raise OSError(28, "No space left on device")
        return real(run_id, metrics=metrics, params=params, tags=tags)

    monkeypatch.setattr(store, "log_batch", full_disk)
    tracker.trial_started("t1", name="lr=0.1", seed=1, params={"seed": 1})
    tracker.trial_metrics("t1", {"train/loss": 0.5, "val/acc": 0.5}, 1)  # queued: returns before the write fails
    tracker.trial_ended("t1", "completed", "", 1)  # queued too: its epoch goes with it, and fails with it
    with pytest.raises(OSError, match="No space left"):
        tracker.flush()
    tracker.flush()  # raised once: the interruption path's best-effort marks go on
    monkeypatch.setattr(store, "log_batch", real)
    tracker.trial_ended("t1", "interrupted", "study interrupted", 1)
    assert tracker.client.get_run(tracker.run_id("t1")).data.tags["hpstudy.status"] == "interrupted"
    tracker.trial_started("t2", name="lr=0.1", seed=2, params={"seed": 2})
    monkeypatch.setattr(store, "log_batch", full_disk)
    monkeypatch.setattr(tracker_module, "_HOLD_S", 0.0)  # its epoch queued at once, not held
    tracker.trial_metrics("t2", {"train/loss": 0.5, "val/acc": 0.5}, 1)
    tracker._writer.defer(lambda client: None).result()  # the failure is known now ...
    with pytest.raises(OSError, match="No space left"):
        tracker.trial_ended("t2", "completed", "", 1)  # ... so the next trial event raises it


def test_quick_epochs_are_written_with_the_trials_end_and_slow_ones_as_they_come(uri, tmp_path, monkeypatch):
    # A closed-form or tabular trial's epochs (within _HOLD_S of its last write) cost one write with its end; a
    # training trial's epochs, minutes apart, are in MLflow as they come.
    import studies.tracking.tracker as tracker_module

    tracker = _study(uri, tmp_path, "held")
    store, calls = tracker._store(), []
    real = store.log_batch

    def counted(run_id, metrics=(), params=(), tags=()):
        calls.append((len(metrics), len(tags)))
        return real(run_id, metrics=metrics, params=params, tags=tags)

    monkeypatch.setattr(store, "log_batch", counted)
    _trial(tracker, "t0", "lr=0.1", 0, [0.5, 0.6, 0.7], "completed")
    tracker.flush()
    assert [c for c in calls if c[0]] == [(6, 2)]  # 3 epochs x 2 metrics, with the status and stop-epoch tags
    history = tracker.client.get_metric_history(tracker.run_id("t0"), "val/acc")
    assert [(m.step, m.value) for m in history] == [(1, 0.5), (2, 0.6), (3, 0.7)]

    monkeypatch.setattr(tracker_module, "_HOLD_S", 0.0)
    calls.clear()
    tracker.trial_started("t1", name="lr=0.1", seed=1, params={"seed": 1})
    tracker.trial_metrics("t1", {"train/loss": 0.5, "val/acc": 0.5}, 1)
    tracker._writer.defer(lambda client: None).result()  # what was queued is written; nothing flushed the held
    assert [c for c in calls if c[0]] == [(2, 0)]


def test_a_tracker_with_queued_writes_pickles_with_its_run_ids(uri, tmp_path):
    import pickle

    tracker = _study(uri, tmp_path, "pickled")
    tracker.trial_started("t0", name="lr=0.1", seed=0, params={"seed": 0})
    again = pickle.loads(pickle.dumps(tracker))
    assert again._runs == {"t0": tracker.run_id("t0")} and again._writer is None


def test_a_resumed_study_adopts_the_runs_of_trials_tune_lost_and_closes_the_rest(uri, tmp_path):
    # The driver was killed after starting two trials but before Tune saved its state again: on --resume Tune knows
    # neither. The trial that trains the same configuration and seed again continues the lost one's run (one run per
    # point, its epochs once); a lost run nobody adopts is marked interrupted, not left RUNNING.
    first = _study(uri, tmp_path, "lost")
    _trial(first, "ab12c_00000", "lr=0.1", 0, [0.5, 0.6], "completed")
    for trial_id, seed in (("ab12c_00001", 1), ("ab12c_00002", 2)):
        first.trial_started(trial_id, name="lr=0.1", seed=seed, params={"seed": seed})
        first.trial_metrics(trial_id, {"train/loss": 0.5, "val/acc": 0.5}, 1)
    first.flush()  # ... then SIGKILL: both runs stay RUNNING
    resumed = StudyTracker(uri, "lost", tmp_path / "mlartifacts")
    resumed.resume_study(first.parent_run_id)
    resumed.restored(["ab12c_00000"])  # Tune's saved state
    assert resumed.trial_started("ab12c_00003", name="lr=0.1", seed=1, params={"seed": 1})  # continues a run
    assert resumed.run_id("ab12c_00003") == first.run_id("ab12c_00001")
    assert not resumed.trial_metrics("ab12c_00003", {"train/loss": 0.5, "val/acc": 0.5}, 1)  # epoch 1: logged before
    assert resumed.trial_metrics("ab12c_00003", {"train/loss": 0.4, "val/acc": 0.6}, 2)
    resumed.trial_ended("ab12c_00003", "completed", "", 2)
    resumed.close_lost()
    client = resumed.client
    adopted = client.get_run(first.run_id("ab12c_00001"))
    assert adopted.data.tags["hpstudy.trial_id"] == "ab12c_00003" and adopted.info.status == "FINISHED"
    assert [m.step for m in client.get_metric_history(adopted.info.run_id, "val/acc")] == [1, 2]
    orphan = client.get_run(first.run_id("ab12c_00002"))
    assert orphan.info.status == "KILLED" and orphan.data.tags["hpstudy.status"] == "interrupted"
    assert orphan.data.tags["hpstudy.stop_reason"].startswith("lost: ")
    assert client.get_run(first.run_id("ab12c_00000")).data.tags["hpstudy.status"] == "completed"  # known: kept


def test_each_trial_run_has_the_data_it_trained_on_as_a_dataset_input(uri, tmp_path):
    from studies.study import Study
    from studies.tracking.dataset_input import of_config
    from studies.tracking.trial_log import TrialLog
    from trainables.config import TrainConfig

    tracker = _study(uri, tmp_path, "inputs")
    study = Study(name="inputs", profile="local", base=TrainConfig(epochs=1), space={})
    log = TrialLog(study, tracker)
    log.started("t0", {})
    log.started("t1", {"data.split_seed": 1})
    runs = [tracker.client.get_run(tracker.run_id(t)) for t in ("t0", "t1")]
    (first,), (second,) = (r.inputs.dataset_inputs for r in runs)
    assert first.dataset.name == "mnist5k" and json.loads(first.dataset.source) == {"uri": "built-in:mnist5k"}
    assert {t.key: t.value for t in first.tags} == {"mlflow.data.context": "training"}
    assert first.dataset.digest != second.dataset.digest  # another split: other examples
    assert of_config(TrainConfig(), own=False).digest() == first.dataset.digest  # the same data, the same digest
    # a function of one's own: its defaults' `dataset`, or nothing at all
    assert of_config({"dataset": "/data/imagenet/"}, own=True).name == "imagenet"
    assert of_config({"lr": 0.1}, own=True) is None
