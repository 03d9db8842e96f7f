"""Replicates of one configuration reach Optuna as one trial: the seeds' per-epoch mean, and how the group ended
(pruned when ASHA stopped one, a labelled stop or error of any seed), for one objective or several."""

from __future__ import annotations

import math
import pickle

import optuna
import pytest
from optuna.trial import TrialState as S

from search_spaces import LogUniform
from studies.search.endings import STOP_REASON
from studies.tune.optuna_replicates import MeanOfReplicates
from studies.tune.optuna_search import CURVES_ATTR, ENDING_ATTR, make_searcher

EPOCHS = 4
optuna.logging.set_verbosity(optuna.logging.WARNING)
pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


def _replicates(objectives=None, repeat=2):
    inner = make_searcher({"optim.lr": LogUniform(1e-3, 1.0)}, objectives or {"val/acc": "max"},
                          max_epochs=EPOCHS, seed=0)
    return MeanOfReplicates(inner, repeat=repeat), inner


def _group(searcher, name, runs, *, error=None):
    """Each replicate's (epochs, acc per epoch, stop reason or None); its last result reaches only
    on_trial_complete, as when a scheduler stops on it. Returns the group's primary (first) trial id."""
    ids = [f"{name}{i}" for i in range(len(runs))]
    for trial_id in ids:
        searcher.suggest(trial_id)
    for i, (trial_id, (epochs, acc, stop)) in enumerate(zip(ids, runs)):
        results = [{"epoch": e, "val/acc": acc * e, "sys/epoch_s": 1.0 + i} for e in range(1, epochs + 1)]
        if stop:
            results[-1][STOP_REASON] = stop
        for result in results[:-1]:
            searcher.on_trial_result(trial_id, result)
        failed = error == i
        searcher.on_trial_complete(trial_id, result=None if failed else results[-1], error=failed)
    return ids[0]


def test_a_group_that_all_reached_the_end_is_complete_with_the_mean():
    searcher, inner = _replicates()
    primary = _group(searcher, "a", [(EPOCHS, 0.1, None), (EPOCHS, 0.2, None)])
    trial = inner.optuna_trial(primary)
    assert trial.state == S.COMPLETE and trial.value == pytest.approx(0.15 * EPOCHS)
    assert trial.intermediate_values == pytest.approx({e: 0.15 * e for e in range(1, EPOCHS + 1)})
    assert len(inner.study.trials) == 1  # the searcher suggested one configuration for both seeds


def test_a_group_with_a_seed_stopped_by_asha_is_pruned_at_its_epoch():
    searcher, inner = _replicates()
    primary = _group(searcher, "a", [(EPOCHS, 0.1, None), (2, 0.2, None)])
    trial = inner.optuna_trial(primary)
    assert trial.state == S.PRUNED and trial.intermediate_values == pytest.approx({1: 0.15, 2: 0.3})


def test_a_seed_that_diverged_or_raised_is_not_averaged_away():
    searcher, inner = _replicates(repeat=3)
    diverged = _group(searcher, "d", [(EPOCHS, 0.1, None), (2, 0.2, "diverged"), (EPOCHS, 0.1, None)])
    failed = _group(searcher, "f", [(EPOCHS, 0.1, None), (EPOCHS, 0.1, None), (1, 0.1, None)], error=2)
    d, f = inner.optuna_trial(diverged), inner.optuna_trial(failed)
    assert d.state == S.PRUNED and d.user_attrs[ENDING_ATTR] == "diverged" and math.isnan(d.intermediate_values[2])
    assert f.state == S.FAIL and f.user_attrs[ENDING_ATTR] == "error"


def test_several_objectives_pass_through_where_rays_repeater_breaks():
    searcher, inner = _replicates({"val/acc": "max", "sys/epoch_s": "min"})
    primary = _group(searcher, "a", [(EPOCHS, 0.1, None), (EPOCHS, 0.2, None)])
    trial = inner.optuna_trial(primary)
    assert trial.state == S.COMPLETE and trial.values == pytest.approx([0.15 * EPOCHS, 1.5])
    assert trial.user_attrs[CURVES_ATTR]["sys/epoch_s"]["2"] == pytest.approx(1.5)


def test_its_state_travels_with_tunes_experiment_state():
    searcher, inner = _replicates()
    searcher.suggest("a0"), searcher.suggest("a1")
    searcher.on_trial_result("a0", {"epoch": 1, "val/acc": 0.1})
    searcher.on_trial_result("a1", {"epoch": 1, "val/acc": 0.4})
    state = pickle.loads(pickle.dumps(searcher.get_state()))  # what SearchGenerator.save_to_dir keeps
    fresh, _ = _replicates()
    fresh.set_state(state)
    fresh.searcher = inner
    for trial_id in ("a0", "a1"):
        fresh.on_trial_complete(trial_id, result={"epoch": EPOCHS, "val/acc": 0.4})
    assert inner.optuna_trial("a0").intermediate_values == pytest.approx({1: 0.25, EPOCHS: 0.4})
