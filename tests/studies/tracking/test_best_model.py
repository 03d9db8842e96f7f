"""The best trial's weights on the study's parent run, from a real trainer checkpoint (digits, one epoch, as a trial's
handle and the Tune sink save it): `mlflow.pytorch.load_model("runs:/<parent>/best_model")` gives the checkpoint's
weights back; a function of one's own, a checkpoint without a model and a failure to log leave no model, say why,
and never fail the study."""

from __future__ import annotations

import shutil

import mlflow.pytorch
import pytest
import torch
from mlflow.entities import LoggedModelStatus

from studies.tracking.best_model import NO_SPEC, OWN, log_best_model
from studies.tracking.tracker import StudyTracker
from tests.studies.closed_form import ClosedForm
from tests.studies.conftest import store, study_runs
from trainables import loop, trial
from trainables.checkpointing import checkpoint, trial_store
from trainables.config import TrainConfig
from trainables.config.overrides import apply_overrides, flatten

TRIAL = "abc_00000"
TINY = {"data.name": "digits", "data.limit_train": 256, "num_threads": 1, "epochs": 1}  # ~1 s on one core


class _StoreSink:
    """What the Tune sink does with a report's state (trainables.ray_train): the trial's newest checkpoint."""

    def __init__(self, storage: str) -> None:
        self.storage = storage

    def restore(self):
        return None

    def report(self, metrics, state) -> None:
        if state is not None:
            trial_store.save(self.storage, TRIAL, lambda directory: checkpoint.save(state, directory))


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> str:
    """A storage holding one trial's checkpoint of hpstudy's trainer, written through the trial's handle."""
    storage = str(tmp_path_factory.mktemp("storage"))
    threads = torch.get_num_threads()
    try:
        trial.run(loop.train, flatten(apply_overrides(TrainConfig(), TINY)), _StoreSink(storage))
    finally:
        torch.set_num_threads(threads)
    return storage


@pytest.fixture
def tracker(tmp_path, empty_store):
    """A finished study's tracker, its one trial (TRIAL) the best."""
    shutil.copyfile(empty_store, tmp_path / "mlflow.db")
    tracker = StudyTracker(f"sqlite:///{tmp_path / 'mlflow.db'}", "best", tmp_path / "mlartifacts")
    tracker.start_study("best-1", {}, {})
    tracker.trial_started(TRIAL, name="lr=0.1", seed=0, params={"optim.lr": 0.1})
    tracker.trial_metrics(TRIAL, {"train/loss": 0.5, "val/acc": 0.8}, 1)
    tracker.trial_ended(TRIAL, "completed")
    tracker.end_study("completed", summary=tracker.summarize("val/acc", "max"))
    return tracker


def _best(tracker):
    return tracker.summarize("val/acc", "max").best


def _tags(tracker) -> dict[str, str]:
    return tracker.client.get_run(tracker.parent_run_id).data.tags


def test_the_best_trials_weights_load_with_mlflow_pytorch(trained, tracker, monkeypatch, tmp_path):
    with trial_store.newest(trained, TRIAL) as folder:
        saved = checkpoint.load(folder)
    monkeypatch.chdir(tmp_path)
    line = log_best_model(tracker, _best(tracker), trained, own=False)
    parent = tracker.parent_run_id
    assert line.startswith(f"best model: runs:/{parent}/best_model (trial {TRIAL}, epoch 1;"), line
    tags = _tags(tracker)
    assert tags["hpstudy.best_model"] == f"runs:/{parent}/best_model"
    assert tags["hpstudy.best_model.trial_id"] == TRIAL and tags["hpstudy.best_model.epoch"] == "1"
    assert tags["hpstudy.best_model.run_id"] == tracker.run_id(TRIAL)
    # `runs:/` resolves through the process's tracking URI: this store's, for this test only
    monkeypatch.setattr("mlflow.tracking._tracking_service.utils._tracking_uri", tracker.tracking_uri)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracker.tracking_uri)
    model = mlflow.pytorch.load_model(f"runs:/{parent}/best_model")
    weights, state = saved["user"]["model"], model.state_dict()
    assert set(state) == set(weights) and all(torch.equal(state[k], weights[k]) for k in weights)
    x = torch.randn(5, 1, 8, 8)  # digits: 8x8 grey images, 10 classes; any batch size
    assert model(x).shape == (5, 10) and torch.isfinite(model(x)).all()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlartifacts", "mlflow.db"], "nothing in the cwd"
    assert [m.status for m in tracker.client.search_logged_models([tracker.experiment_id()])] == [
        LoggedModelStatus.READY]


def test_a_function_of_ones_own_logs_no_model_and_says_why(trained, tracker):
    line = log_best_model(tracker, _best(tracker), trained, own=True)
    assert line == f"best model: not logged ({OWN})"
    assert _tags(tracker)["hpstudy.best_model"] == f"not logged: {OWN}"
    assert not tracker.client.search_logged_models([tracker.experiment_id()])


def test_a_checkpoint_without_a_model_spec_logs_no_model(tracker, tmp_path):
    storage = str(tmp_path / "storage")  # a closed-form trial's, or a function's own state under hpstudy's handle
    trial_store.save(storage, TRIAL, lambda d: checkpoint.save({"epoch": 1, "user": {"acc": 0.8}}, d))
    assert log_best_model(tracker, _best(tracker), storage, own=False) == f"best model: not logged ({NO_SPEC})"
    assert log_best_model(tracker, _best(tracker), str(tmp_path / "none"), own=False) == (
        "best model: not logged (its trial left no checkpoint)")
    assert log_best_model(tracker, None, storage, own=False) is None  # no best trial: the summary says so


def test_a_failure_to_log_is_tagged_and_the_logged_model_marked_failed(trained, tracker, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("export failed\nsecond line")

    monkeypatch.setattr(mlflow.pytorch, "save_model", broken)
    with pytest.raises(RuntimeError):
        log_best_model(tracker, _best(tracker), trained, own=False)
    assert _tags(tracker)["hpstudy.best_model"] == "not logged: RuntimeError: export failed"
    assert [m.status for m in tracker.client.search_logged_models([tracker.experiment_id()])] == [
        LoggedModelStatus.FAILED]


def test_the_study_ends_as_it_would_when_the_model_cannot_be_logged(run_study, tmp_path, monkeypatch):
    from studies.tracking import best_model

    def broken(*args, **kwargs):
        raise OSError("the artifact store is gone\nmore")

    monkeypatch.setattr(best_model, "log_best_model", broken)
    result = run_study(["lr_warmup_dropout", "--num-samples", "1", "--set", "epochs=1"], tmp_path, ClosedForm())
    assert result.returncode == 0, result.stderr[-3000:]
    assert "warning: best model not logged: OSError: the artifact store is gone\n" in result.stderr
    parents, _ = study_runs(store(tmp_path), "lr_warmup_dropout")
    assert parents[0].info.status == "FINISHED" and parents[0].data.tags["hpstudy.status"] == "completed"
