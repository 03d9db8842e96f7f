"""A study's pretraining (Study.pretrain): trained once before the trials through `tune.run_once`, its checkpoint
logged on the parent run and given to every trial as init.checkpoint, reused by --resume, replaced by a user's
--set init.checkpoint, shown by --dry-run and shrunk by --smoke. No Ray: `run_once` runs in this process."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from hpstudy.schema.params import PRETRAIN_CHECKPOINT
from search_spaces import Grid
from studies.assembly import pretrain, smoke
from studies.cli import before_trials, execute
from studies.cli.exit_status import EXIT_INTERRUPTED, PretrainFailed
from studies.cli.main import main
from studies.cli.plan import Plan
from studies.cli.state import load_state
from studies.study import Study, StudyError
from studies.tracking.tracker import StudyTracker
from studies.tune.tuner import TrialFn
from trainables.config import DataConfig, InitConfig, TrainConfig

TINY = TrainConfig(epochs=1, num_threads=1, data=DataConfig(name="mnist5k", batch_size=64, limit_train=256))


def _study(**fields) -> Study:
    base = replace(TINY, epochs=2, init=InitConfig(mode="continue", keep=("model",)))
    return Study(profile="local", base=base, space={"seed": Grid((0, 1))}, name="pt", pretrain=TINY,
                 cpus_per_trial=1.0, **fields)


class FakeTune:
    """The Tune adapter minus Ray: run_once in this process; the tuner runs no trial (the study is 'interrupted')."""

    def __init__(self):
        self.calls, self.resolved = [], []
        self.TrialEvents = lambda *handlers, **named: None

    def run_once(self, fn, *args, cpus, gpus, **kwargs):
        self.calls.append((fn.__name__, cpus, gpus))
        return fn(*args, **kwargs)

    def run_tuner(self, study, trial, **kwargs):
        self.resolved.append(trial.fn({"seed": 0}))


def _factory(tune: FakeTune):
    return lambda study, resolve, storage: TrialFn(resolve)  # the trial 'runs' its resolver: what it would train


def _execute(study: Study, tmp_path: Path, tune: FakeTune, previous=None, sets=None) -> int:
    """The steps a run takes once Ray is up, on a plan as `make_plan` makes one (a resumed run's from its state)."""
    plan = Plan(study.name, study.profile, {study.profile: study}, sets or {}, None,
                tuple(previous.seeds) if previous and previous.seeds is not None else None, tmp_path,
                str(tmp_path / "ray" / study.name), f"sqlite:///{tmp_path / 'mlflow.db'}", None, None,
                "python -m studies.run pt", resumed=previous)
    return execute.run_steps(plan, study, tune, None, trial_factory=_factory(tune))


def test_the_pretraining_runs_once_is_logged_and_every_trial_starts_from_it_and_resume_reuses_it(tmp_path):
    tune = FakeTune()
    assert _execute(_study(), tmp_path, tune) == EXIT_INTERRUPTED  # the fake tuner ended no trial
    assert tune.calls == [("train", 1.0, 0.0)]  # one task, on one trial's resources
    state = load_state(tmp_path / "ray" / "pt")
    checkpoint = Path(state.pretrain_checkpoint)
    assert checkpoint == tmp_path / "pretrain" / state.parent_run_id / "state.pt" and checkpoint.is_file()
    assert tune.resolved[0]["init.checkpoint"] == str(checkpoint)  # what every trial trains from
    assert tune.resolved[0]["init.mode"] == "continue" and tune.resolved[0]["epochs"] == 2

    tracker = StudyTracker(f"sqlite:///{tmp_path / 'mlflow.db'}", "pt", tmp_path / "mlartifacts")
    parent = tracker.client.get_run(state.parent_run_id)
    assert parent.data.params[PRETRAIN_CHECKPOINT] == str(checkpoint)
    assert 0.0 <= parent.data.metrics["pretrain/val/acc"] <= 1.0 and parent.data.metrics["pretrain/epoch"] == 1
    logged = {a.path for a in tracker.client.list_artifacts(state.parent_run_id, "pretrain")}
    assert logged == {"pretrain/state.pt", "pretrain/history.json", "pretrain/config.yaml"}

    resumed = FakeTune()
    _execute(_study(), tmp_path, resumed, previous=state, sets=state.sets)
    assert resumed.calls == []  # reused, not trained again
    assert resumed.resolved[0]["init.checkpoint"] == str(checkpoint)


def test_a_users_init_checkpoint_replaces_the_pretraining(tmp_path):
    own = tmp_path / "own"
    before_trials.train(TINY, str(own))  # a checkpoint of the user's own
    study = _study()
    study = replace(study, base=replace(study.base, init=replace(study.base.init, checkpoint=str(own / "state.pt"))))
    assert pretrain.replaced_by(study) == str(own / "state.pt")
    assert "replaces the study's pretraining, which is not run" in pretrain.replaced_steps(study, {}, None)[0]
    tune = FakeTune()
    _execute(study, tmp_path, tune)
    assert tune.calls == [] and tune.resolved[0]["init.checkpoint"] == str(own / "state.pt")
    assert load_state(tmp_path / "ray" / "pt").pretrain_checkpoint is None


def test_a_diverged_pretraining_fails_the_study_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(before_trials, "train", lambda cfg, out: {"epoch": 1.0, "stop/reason": "diverged",
                                                             "stop/detail": "loss is nan at step 3"})
    tracker = StudyTracker(f"sqlite:///{tmp_path / 'mlflow.db'}", "pt", tmp_path / "mlartifacts")
    tracker.start_study("pt", {}, {})
    out = pretrain.folder(tmp_path, tracker.parent_run_id)
    out.mkdir(parents=True)  # what the diverged run left there: its last checkpoint and history
    (out / "state.pt").write_bytes(b"")
    (out / "history.json").write_text("{}")
    with pytest.raises(PretrainFailed, match=r"^pretraining stopped at epoch 1: diverged \(loss is nan"):
        before_trials.pretraining(_study(), tracker, tmp_path, FakeTune())


def test_the_pretraining_takes_the_users_sets_but_init_and_its_paths_are_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    study = replace(_study(), pretrain=replace(TINY, data=replace(TINY.data, name="cifar10", root="data")))
    fitted = pretrain.fit(study, {"data.limit_train": "128", "init.checkpoint": "x.pt"})
    assert fitted.pretrain.data.limit_train == 128 and fitted.pretrain.init.checkpoint == ""
    assert fitted.pretrain.data.root == str(tmp_path / "data")


def test_a_study_checks_its_pretraining_and_range_test_when_it_is_built():
    with pytest.raises(StudyError, match=r"study pt, pretrain: recipe: mix_target='hard'"):
        replace(_study(), pretrain=replace(TINY, recipe=replace(TINY.recipe, mix_target="hard")))
    with pytest.raises(StudyError, match=r"lr_range_steps=5 needs >= 10 steps"):
        _study(lr_range_steps=5)
    with pytest.raises(StudyError, match=r"does not vary optim.lr"):
        replace(_study(lr_range_steps=20), space={"optim.lr": Grid((0.1, 0.2))})


def test_smoke_shrinks_the_pretraining_like_the_trials(tmp_path):
    study = replace(_study(lr_range_steps=200), pretrain=replace(
        TINY, epochs=124, data=replace(TINY.data, name="cifar10", root="data", batch_size=256)),
        base=replace(_study().base, data=replace(TINY.data, name="cifar10", root="data")))
    root = tmp_path / "smoke_data" / "cifar10"
    small = smoke.shrink(study, root)
    assert (small.pretrain.epochs, small.pretrain.data.batch_size) == (smoke.EPOCHS, smoke.BATCH)
    assert small.pretrain.data.root == str(root) == small.base.data.root
    assert small.lr_range_steps == smoke.LR_RANGE_STEPS
    fitted = pretrain.fit(small, {"epochs": "7"})  # a --set then the rehearsal's sizes, as for the trials
    assert fitted.pretrain.epochs == smoke.EPOCHS


def test_dry_run_shows_the_pretraining_and_where_every_trial_starts(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["rsb_restart", "--dry-run", "--profile", "local"]) == 0
    out = capsys.readouterr().out
    assert "note: pretraining: 2 epochs, once, before the trials" in out
    assert "pretraining (once, before the trials" in out and "  recipe.mix_target=hard" in out
    assert f"init.checkpoint={tmp_path}/hpstudy_runs/pretrain/<parent run id>/state.pt" in out
    assert "the study's own LR range test, 50 steps from the pretraining" in out
    assert main(["rsb_restart", "--dry-run", "--profile", "local", "--json"]) == 0
    trials = json.loads(capsys.readouterr().out)
    assert trials[0]["pretrain"]["recipe.mix_target"] == "hard" and trials[0]["pretrain"]["epochs"] == 2
    (tmp_path / "mine.pt").write_bytes(b"")  # only its existence is checked before a run
    assert main(["rsb_restart", "--dry-run", "--profile", "local", "--set", "init.checkpoint=mine.pt",
                 "--set", "optim.lr=0.01"]) == 0
    out = capsys.readouterr().out
    assert f"note: init.checkpoint={tmp_path}/mine.pt replaces the study's pretraining, which is not run" in out
    assert "note: optim.lr=0.01 replaces the study's LR range test, which is not run" in out
    assert "pretraining (once" not in out


def test_the_saved_state_round_trips_the_pretraining_checkpoint(tmp_path):
    from studies.cli.state import StudyState, save_state

    state = StudyState("pt", "local", {}, None, "e", "r", "u", pretrain_checkpoint="/abs/state.pt")
    save_state(tmp_path, state)
    assert load_state(tmp_path) == state
