"""Searches through the CLI, Ray Tune and MLflow on a closed-form trial: TPE samples inside the space and repeats
itself for a search seed; ASHA stops trials at its rungs, on the epoch axis, keeping the ones that rank higher."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from search_spaces import Grid
from studies import registry
from studies.catalog import lr_warmup_dropout
from studies.study import Asha, Study
from studies.tune.cluster import held_placement_groups
from tests.studies.closed_form import ClosedForm
from tests.studies.conftest import store, study_runs

EPOCHS = 4  # lr_warmup_dropout's local profile
TRIALS = 8  # its local num_samples; below TPE's 10 random start-up trials, so the sample is the seed's alone
RUNGS = (1, 2)  # ASHA grace_period=1, reduction_factor=2 and max_t=4: milestones 1, 2 (4 is the end)
SAMPLED = ("optim.lr", "sched.warmup_epochs", "model.drop_rate", "optim.weight_decay")


def _search(run_study, cwd):
    result = run_study(["lr_warmup_dropout", "--profile", "local"], cwd, ClosedForm(epoch_s=0.05))
    assert result.returncode == 0, result.stderr[-3000:]
    return result, study_runs(store(cwd), "lr_warmup_dropout")[1]


@pytest.fixture(scope="module")
def searches(run_study, tmp_path_factory):
    """The local search twice, in two fresh folders: (cwd, result, trial runs) each, and the filters of the
    searches for the study's trial runs the second one's driver made. The first writes MLflow from a writer process
    (as a study of 100 trials or more does), the second from a thread: the tests read the first."""
    from mlflow.tracking import MlflowClient

    from studies.tracking import writer

    runs, filters, processes = [], [], []
    search = MlflowClient.search_runs

    def counted(self, *args, **kwargs):
        filters.append(kwargs.get("filter_string", args[1] if len(args) > 1 else ""))
        return search(self, *args, **kwargs)

    for name in ("first", "second"):
        cwd = tmp_path_factory.mktemp(name)
        with pytest.MonkeyPatch.context() as patch:
            if name == "second":
                patch.setattr(MlflowClient, "search_runs", counted)
            else:
                patch.setattr(writer, "PROCESS_FROM_TRIALS", 1)
                start = writer.ProcessWriter.__init__
                patch.setattr(writer.ProcessWriter, "__init__",
                              lambda self, *a, **k: processes.append(start(self, *a, **k)))
            runs.append((cwd, *_search(run_study, cwd)))
    runs.append([f for f in filters if "mlflow.parentRunId" in f])
    assert len(processes) == 1, "the first search wrote from one writer process"
    return runs


def test_a_study_reads_its_trial_runs_once_at_its_end(searches):
    # one search shared by the end's steps (the check that every trial ended, the summary, the best tag, the
    # report): at 10,000 trials each search of them took seconds (before: five)
    assert len(searches[2]) == 1, searches[2]


def test_tpe_samples_inside_the_space(searches):
    _, _, trials = searches[0]
    assert len(trials) == TRIALS
    for trial in trials:
        p = {k: float(trial.data.params[k]) for k in SAMPLED}
        assert 1e-3 <= p["optim.lr"] <= 0.5 and p["sched.warmup_epochs"] in (0, 1)
        assert 0 <= p["model.drop_rate"] <= 0.3 and 1e-5 <= p["optim.weight_decay"] <= 1e-3
        assert trial.data.tags["hpstudy.seed"] == "0" and trial.data.params["epochs"] == str(EPOCHS)
    assert len({tuple(t.data.params[k] for k in SAMPLED) for t in trials}) == TRIALS


def test_the_same_search_seed_samples_the_same_trials(searches):
    (_, _, first), (_, _, second) = searches[:2]
    assert sorted(tuple(t.data.params[k] for k in SAMPLED) for t in first) == \
        sorted(tuple(t.data.params[k] for k in SAMPLED) for t in second)


def test_asha_stops_trials_at_its_rungs_and_says_so(searches):
    cwd, result, trials = searches[0]
    client = store(cwd)
    history = {t.info.run_id: [m.value for m in client.get_metric_history(t.info.run_id, "val/acc")] for t in trials}
    statuses = [t.data.tags["hpstudy.status"] for t in trials]
    assert set(statuses) == {"completed", "early_stopped"}, statuses
    for trial in trials:
        tags, steps = trial.data.tags, history[trial.info.run_id]
        test_steps = [m.step for m in client.get_metric_history(trial.info.run_id, "test/acc")]
        if tags["hpstudy.status"] == "completed":
            assert len(steps) == EPOCHS and test_steps == [EPOCHS]
            continue
        stop = int(tags["hpstudy.stop_epoch"])
        assert stop in RUNGS and len(steps) == stop, (stop, steps)
        assert tags["hpstudy.stop_reason"] == f"stopped by ASHA at epoch {stop}"
        assert test_steps == [], "a trial ASHA stopped was not selected: it has no test figure"
        # ASHA keeps a trial that is at least the rung's median so far: a stopped one ranked below another there.
        assert any(len(h) >= stop and h[stop - 1] > steps[-1] for h in history.values())
    best = max(trials, key=lambda t: history[t.info.run_id][0])  # the closed form ranks trials alike every epoch
    assert best.data.tags["hpstudy.status"] == "completed"
    assert "selected on val/acc: " in result.stdout and " test/acc " in result.stdout
    assert held_placement_groups() == 0, "stopped trials give their resources back"


def _rung_study(profile: str) -> Study:
    """A grid over the learning rate with ASHA, one trial at a time: the order trials reach each rung is known."""
    base = lr_warmup_dropout.get_study("local").base
    return Study(name="asha_rungs", profile=profile, base=base, space={"optim.lr": Grid((0.1, 0.001, 0.3, 0.01))},
                 asha=Asha(grace_period=1, reduction_factor=2), cpus_per_trial=float(os.cpu_count()))


def test_asha_rungs_on_an_objective_whose_ranking_is_known(run_study, tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "load", lambda name: SimpleNamespace(get_study=_rung_study))
    result = run_study(["asha_rungs", "--profile", "local"], tmp_path, ClosedForm())
    assert result.returncode == 0, result.stderr[-3000:]
    _, trials = study_runs(store(tmp_path), "asha_rungs")
    ended = {float(t.data.params["optim.lr"]): (t.data.tags["hpstudy.status"], t.data.tags["hpstudy.stop_epoch"])
             for t in trials}
    # In order: lr=0.1 is first at every rung; 0.001 is below it at rung 1; 0.3 is above the median of those two at
    # rung 1 but below 0.1 at rung 2; 0.01 is below the median (0.3's) of the three before it at rung 1.
    assert ended == {0.1: ("completed", "4"), 0.001: ("early_stopped", "1"), 0.3: ("early_stopped", "2"),
                     0.01: ("early_stopped", "1")}


def test_optuna_holds_the_asha_stopped_trials_as_pruned(searches):
    """What the searcher was told, read from its state in the study's experiment folder (what --resume restores)."""
    import optuna

    from search_spaces import Uniform
    from studies.tune.optuna_search import make_searcher

    cwd, _, trials = searches[0]
    (experiment,) = (cwd / "hpstudy_runs" / "ray" / "lr_warmup_dropout").glob("local-*")
    restored = make_searcher({"unused": Uniform(0, 1)}, {"val/acc": "max"}, max_epochs=EPOCHS, seed=0)
    restored.restore_from_dir(str(experiment))
    states = sorted(t.state.name for t in restored.study.trials)
    statuses = [t.data.tags["hpstudy.status"] for t in trials]
    assert states.count("PRUNED") == statuses.count("early_stopped") > 0
    assert states.count("COMPLETE") == statuses.count("completed") and len(states) == TRIALS
    for trial in restored.study.trials:
        if trial.state == optuna.trial.TrialState.PRUNED:  # TPE reads a pruned trial's curve, not a final score
            assert trial.intermediate_values and max(trial.intermediate_values) < EPOCHS
