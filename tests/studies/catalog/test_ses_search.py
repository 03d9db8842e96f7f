"""ses_search: the seed-001 CIFAR-100 setup searched on three objectives with a conditional space, by
multi-objective TPE and multi-objective successive halving; run through the CLI on a closed-form trial."""

from __future__ import annotations

import pytest

from search_spaces import Conditional
from studies.catalog import ses_search
from studies.tune.optuna_search import make_searcher
from tests.studies.closed_form import ClosedForm
from tests.studies.conftest import store, study_runs


def test_full_is_the_seeds_cifar100_resnet18_with_ses_on_and_three_objectives():
    study = ses_search.get_study("full")
    base = study.base
    assert (base.data.name, base.model.name, base.epochs, base.data.batch_size) == ("cifar100", "resnet18", 50, 256)
    assert (base.optim.name, base.optim.lr, base.sched.milestones) == ("sgd", 0.1, (20, 35, 45))
    assert base.ses.enabled and base.rob.enabled and base.rob.every == 1
    assert study.objectives == (("val/acc", "max"), ("rob/acc", "max"), ("sys/epoch_s", "min"))
    assert study.search == "tpe" and study.asha is not None and study.sampler == "tpe"
    schedule = study.space["ses.beta_schedule"]
    assert isinstance(schedule, Conditional) and set(schedule.options["step"]) == {"ses.beta_steps"}
    assert set(schedule.options["fixed"]) == {"ses.beta"} and set(schedule.options["linear"]) == {
        "ses.beta_start", "ses.beta_end"}
    assert {"ses.lam", "ses.layers", "ses.every_k"} <= set(study.space)


@pytest.fixture(scope="module")
def search(run_study, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("ses_search")
    return cwd, run_study(["ses_search", "--profile", "local"], cwd, ClosedForm(epoch_s=0.05))


@pytest.mark.slow  # a real study end to end (~13-19 s): the default suite stays under 5 min
def test_the_search_runs_and_stops_dominated_trials_at_its_rungs(search):
    cwd, result = search
    assert result.returncode == 0, result.stderr[-3000:]
    _, trials = study_runs(store(cwd), "ses_search")
    assert len(trials) == 12
    stopped = [t for t in trials if t.data.tags["hpstudy.status"] == "early_stopped"]
    assert stopped and all(t.data.tags["hpstudy.stop_reason"].startswith("multi-objective ASHA stopped at epoch ")
                           and " rung (front " in t.data.tags["hpstudy.stop_reason"] for t in stopped)
    for trial in trials:  # only the parameters that applied: a schedule's own endpoints, no others
        params, schedule = trial.data.params, trial.data.params["ses.beta_schedule"]
        assert ("ses.beta" in params) == (schedule == "fixed")
        assert ("ses.beta_start" in params) == (schedule in ("linear", "cosine", "reverse"))
        assert ("ses.beta_steps" in params) == (schedule == "step")
    assert "Pareto front over mean per config (val/acc ↑, rob/acc ↑, sys/epoch_s ↓)" in result.stdout


@pytest.mark.slow  # a real study end to end (~13-19 s): the default suite stays under 5 min
def test_optuna_was_told_the_stopped_trials_as_pruned(search):
    cwd, _ = search
    (experiment,) = (cwd / "hpstudy_runs" / "ray" / "ses_search").glob("local-*")
    restored = make_searcher({}, dict(ses_search.OBJECTIVES), max_epochs=4, seed=0)
    restored.restore_from_dir(str(experiment))
    _, trials = study_runs(store(cwd), "ses_search")
    states = [t.state.name for t in restored.study.trials]
    statuses = [t.data.tags["hpstudy.status"] for t in trials]
    assert states.count("PRUNED") == statuses.count("early_stopped") > 0
    assert states.count("COMPLETE") == statuses.count("completed") > 0
