"""The Optuna searcher tells Optuna how trials ended: every epoch an intermediate value, COMPLETE only at max epochs,
PRUNED when ASHA stopped it, a labelled stop never a score; single- and multi-objective, across a save and restore.
First on fabricated results (no Ray), then in one real ASHA search on a closed-form objective."""

from __future__ import annotations

import math
import sys
import time
import warnings

import optuna
import pytest
from optuna.trial import TrialState as S
from ray import cloudpickle

from search_spaces import Conditional, IntRange, LogUniform, Uniform
from studies.search.endings import STOP_DETAIL, STOP_REASON
from studies.tune.optuna_search import CURVES_ATTR, DETAIL_ATTR, ENDING_ATTR, EPOCH_ATTR, make_searcher

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # Ray's workers cannot import test modules by name

EPOCHS = 6
PEAK_LR, DIVERGE_LR = 0.1, 0.3  # val/acc peaks at PEAK_LR; above DIVERGE_LR a trial diverges in epoch 2
FAST_START = 0.9  # a diverging trial's epoch-1 accuracy: it learns fastest first, so ASHA keeps it past rung 1
SPACE = {"optim.lr": LogUniform(1e-3, 3.0),
         "model.kind": Conditional({"plain": {}, "wide": {"model.width": IntRange(1, 4)}})}
SEED = 1  # its 10 random start-up samples hold 3 diverging learning rates and both model kinds

optuna.logging.set_verbosity(optuna.logging.WARNING)
pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


def accuracy(config: dict, epoch: int) -> float:
    quality = math.exp(-math.log10(config["optim.lr"] / PEAK_LR) ** 2) * (1 - 0.02 * config.get("model.width", 0))
    return 0.1 + 0.85 * quality * epoch / (epoch + 1)


def _searcher(objectives=None, sampler="tpe"):
    return make_searcher(SPACE, objectives or {"val/acc": "max"}, max_epochs=EPOCHS, seed=SEED, sampler=sampler)


def _run(searcher, trial_id, epochs, *, stop=None, complete=True, error=False, acc=None, extra=None):
    """Results for epochs 1..epochs as Tune gives them: on_trial_result for each but the last when `stop` says the
    scheduler stopped on it (Tune then passes it to on_trial_complete only)."""
    config = searcher.suggest(trial_id)
    results = [{"epoch": e, "val/acc": acc if acc is not None else accuracy(config, e), **(extra or {})}
               for e in range(1, epochs + 1)]
    if stop:
        results[-1].update({STOP_REASON: stop, STOP_DETAIL: f"{stop} at step 13", "val/acc": 0.1})
    for result in results[:-1] if complete else results:
        searcher.on_trial_result(trial_id, result)
    if complete:
        searcher.on_trial_complete(trial_id, result=None if error else results[-1], error=error)
    return config


def test_each_end_reaches_optuna_as_its_state_with_its_intermediate_values():
    searcher = _searcher()
    full = _run(searcher, "full", EPOCHS)
    _run(searcher, "asha", 2)
    _run(searcher, "diverged", 2, stop="diverged")
    _run(searcher, "oom", 3, stop="oom")
    _run(searcher, "error", 1, error=True)
    _run(searcher, "nan", EPOCHS, acc=math.nan)
    trials = {t: searcher.optuna_trial(t) for t in ("full", "asha", "diverged", "oom", "error", "nan")}
    assert {t: trials[t].state for t in trials} == {"full": S.COMPLETE, "asha": S.PRUNED, "diverged": S.PRUNED,
                                                    "oom": S.FAIL, "error": S.FAIL, "nan": S.FAIL}
    assert trials["full"].value == pytest.approx(accuracy(full, EPOCHS))
    assert sorted(trials["full"].intermediate_values) == list(range(1, EPOCHS + 1))
    assert sorted(trials["asha"].intermediate_values) == [1, 2]  # the stopping epoch's value, too
    assert trials["asha"].value == trials["asha"].intermediate_values[2]  # Optuna's own rule for PRUNED
    diverged = trials["diverged"]
    assert math.isnan(diverged.intermediate_values[2]) and diverged.value is None  # chance accuracy is no score
    assert diverged.user_attrs == {ENDING_ATTR: "diverged", EPOCH_ATTR: 2, DETAIL_ATTR: "diverged at step 13"}
    assert trials["oom"].user_attrs[ENDING_ATTR] == "oom" and trials["error"].user_attrs == {ENDING_ATTR: "error"}
    assert trials["nan"].user_attrs[ENDING_ATTR] == "objective_not_finite"
    assert searcher.study is searcher._ot_study and len(searcher.study.trials) == 6


def test_tpe_keeps_sampling_past_its_start_up_with_pruned_and_failed_trials():
    searcher = _searcher()
    for i in range(16):
        _run(searcher, f"t{i}", (EPOCHS, 1, 2)[i % 3], stop="diverged" if i % 5 == 0 else None)
    configs = [searcher.suggest(f"next{i}") for i in range(3)]
    assert all(1e-3 <= c["optim.lr"] <= 3.0 for c in configs)


def test_a_repeated_or_late_report_changes_nothing():
    searcher = _searcher()
    _run(searcher, "a", 2, complete=False)
    searcher.on_trial_result("a", {"epoch": 2, "val/acc": 0.99})  # a retry reports its epoch again
    searcher.on_trial_complete("a", result={"epoch": 2, "val/acc": 0.5})
    searcher.on_trial_complete("a", result={"epoch": 6, "val/acc": 0.9})  # told twice: the first stands
    searcher.on_trial_result("a", {"epoch": 3, "val/acc": 0.9})
    trial = searcher.optuna_trial("a")
    assert trial.state == S.PRUNED and trial.intermediate_values[2] != 0.99 and 3 not in trial.intermediate_values


@pytest.mark.parametrize("sampler", ["tpe", "nsga2"])
def test_multi_objective_studies_take_pruned_trials_and_keep_sampling(sampler):
    """Optuna cannot report intermediate values with several objectives (optuna#3450), but it accepts
    tell(state=PRUNED) without values, and both samplers go on sampling past a study of mostly pruned trials."""
    searcher = _searcher({"val/acc": "max", "sys/epoch_s": "min"}, sampler)
    assert searcher.study.directions == [optuna.study.StudyDirection.MAXIMIZE, optuna.study.StudyDirection.MINIMIZE]
    _run(searcher, "asha", 2, extra={"sys/epoch_s": 1.5})
    _run(searcher, "diverged", 2, stop="diverged", extra={"sys/epoch_s": 1.5})
    _run(searcher, "full", EPOCHS, extra={"sys/epoch_s": 2.0})
    pruned, diverged, full = (searcher.optuna_trial(t) for t in ("asha", "diverged", "full"))
    assert (pruned.state, diverged.state, full.state) == (S.PRUNED, S.PRUNED, S.COMPLETE)
    assert pruned.values is None and pruned.intermediate_values == {}
    assert pruned.user_attrs[CURVES_ATTR]["sys/epoch_s"] == {"1": 1.5, "2": 1.5}
    assert math.isnan(diverged.user_attrs[CURVES_ATTR]["val/acc"]["2"])
    assert full.values[1] == 2.0
    for i in range(60):  # past TPE's 10 and NSGA-II's 50 start-up trials, nearly all pruned
        _run(searcher, f"t{i}", EPOCHS if i % 10 == 0 else 1, extra={"sys/epoch_s": 1.0 + i % 3})
    assert {c["model.kind"] for c in (searcher.suggest(f"next{i}") for i in range(4))} <= {"plain", "wide"}


def test_the_search_history_survives_a_save_and_restore(tmp_path):
    searcher = _searcher()
    _run(searcher, "done", EPOCHS)
    _run(searcher, "running", 2, complete=False)
    searcher.save(str(tmp_path / "searcher.pkl"))
    restored = make_searcher({"unused": Uniform(0, 1)}, {"val/acc": "max"}, max_epochs=1, seed=0)
    restored.restore(str(tmp_path / "searcher.pkl"))
    assert restored.max_epochs == EPOCHS and restored.optuna_trial("done").state == S.COMPLETE
    restored.on_trial_result("running", {"epoch": 3, "val/acc": 0.4})
    restored.on_trial_complete("running", result={"epoch": 4, "val/acc": 0.5})
    trial = restored.optuna_trial("running")
    assert trial.state == S.PRUNED and sorted(trial.intermediate_values) == [1, 2, 3, 4]
    assert "model.kind" in restored.suggest("after")  # its space, not the one it was built with


def test_bad_arguments_name_the_values():
    with pytest.raises(KeyError, match="unknown sampler 'cmaes'; valid: tpe, nsga2"):
        make_searcher(SPACE, {"val/acc": "max"}, max_epochs=6, seed=0, sampler="cmaes")
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        make_searcher(SPACE, {"val/acc": "maximize"}, max_epochs=6, seed=0)
    with pytest.raises(ValueError, match="objectives=\\{\\}"):
        make_searcher(SPACE, {}, max_epochs=6, seed=0)


# One real search: Ray Tune, ASHA on the epoch axis, this searcher.

def closed_form(config: dict) -> None:
    from ray import tune

    for epoch in range(1, EPOCHS + 1):
        time.sleep(0.02)  # lets concurrent trials interleave at ASHA's rungs
        if config["optim.lr"] > DIVERGE_LR and epoch == 2:
            tune.report({"epoch": epoch, "val/acc": 0.1, STOP_REASON: "diverged", STOP_DETAIL: "nan loss"})
            return
        fast = config["optim.lr"] > DIVERGE_LR
        tune.report({"epoch": epoch, "val/acc": FAST_START if fast else accuracy(config, epoch)})


@pytest.fixture(scope="module")
def asha_search(tmp_path_factory):
    """(searcher, Tune's result grid, experiment path) of 12 trials under ASHA (rungs 1, 2, 4; max_t 6)."""
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("RAY_AIR_NEW_OUTPUT", "0")  # verbose=0 then prints nothing (studies.tune.tuner does the same)
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    searcher = _searcher()
    tuner = tune.Tuner(
        tune.with_resources(closed_form, {"cpu": 0.5}),
        param_space={},  # the searcher holds the space (define-by-run): Tune's must hold no distributions
        tune_config=tune.TuneConfig(
            metric="val/acc", mode="max", search_alg=searcher, num_samples=12, reuse_actors=True,
            scheduler=ASHAScheduler(time_attr="epoch", max_t=EPOCHS, grace_period=1, reduction_factor=2)),
        run_config=tune.RunConfig(name="asha", storage_path=str(tmp_path_factory.mktemp("tune")), verbose=0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid = tuner.fit()
    yield searcher, grid, grid.experiment_path
    monkeypatch.undo()
    if started:
        ray.shutdown()


def test_asha_search_tells_optuna_pruned_complete_and_diverged(asha_search):
    searcher, grid, _ = asha_search
    assert len(grid) == 12 and not grid.errors
    seen = {"pruned": 0, "complete": 0, "diverged": 0}
    for result in grid:
        trial_id, last, config = result.metrics["trial_id"], result.metrics, result.config
        optuna_trial = searcher.optuna_trial(trial_id)
        steps = optuna_trial.intermediate_values
        if last.get(STOP_REASON) == "diverged":
            seen["diverged"] += 1
            assert optuna_trial.state == S.PRUNED and optuna_trial.value is None and math.isnan(steps[2])
            assert steps[1] == FAST_START
            assert optuna_trial.user_attrs[ENDING_ATTR] == "diverged"
        elif last["epoch"] == EPOCHS:
            seen["complete"] += 1
            assert optuna_trial.state == S.COMPLETE and optuna_trial.value == pytest.approx(accuracy(config, EPOCHS))
        else:
            seen["pruned"] += 1
            assert optuna_trial.state == S.PRUNED and optuna_trial.user_attrs[EPOCH_ATTR] == last["epoch"]
        reached = last["epoch"]
        assert sorted(steps) == list(range(1, reached + 1))  # every epoch, the one ASHA stopped on included
        if config["optim.lr"] <= DIVERGE_LR:
            assert all(steps[e] == pytest.approx(accuracy(config, e)) for e in steps)
        assert ("model.width" in config) == (config["model.kind"] == "wide")  # only the parameters that applied
        assert set(optuna_trial.params) == set(config)
    assert all(seen.values()), seen


def test_the_search_history_is_in_the_experiment_for_a_restore(asha_search):
    searcher, _, path = asha_search
    restored = _searcher()
    restored.restore_from_dir(path)  # what Tuner.restore does with the searcher state Tune saved
    states = [(t.number, t.state, t.intermediate_values) for t in restored.study.trials]
    assert len(states) == 12
    assert [s[:2] for s in states] == [(t.number, t.state) for t in searcher.study.trials]
