"""HistoryTPESampler proposes what Optuna's TPESampler proposes, trial by trial, on studies shaped like hpstudy's:
several trials running at once (constant liar), ASHA's pruned trials, failures, a conditional parameter, a changed
distribution, a pickle round trip (Ray's Tuner.restore)."""

from __future__ import annotations

import math
import pickle
import random
import warnings

import optuna
import pytest
from optuna.trial import TrialState

from studies.tune.tpe import HistoryTPESampler

optuna.logging.set_verbosity(optuna.logging.ERROR)


def space(trial: optuna.Trial, max_dropout: float) -> None:
    trial.suggest_float("lr", 1e-4, 1.0, log=True)
    trial.suggest_int("warmup", 0, 3)
    trial.suggest_float("dropout", 0.0, max_dropout)
    if trial.suggest_categorical("optim", ("sgd", "adamw")) == "sgd":
        trial.suggest_float("momentum", 0.8, 0.99)  # only some trials have it


def score(params: dict, epoch: int) -> float:
    return -(math.log10(params["lr"]) + 2) ** 2 - params["dropout"] + 0.1 * params["warmup"] + epoch / 10


def drive(sampler: optuna.samplers.BaseSampler, direction: str, trials: int, at_once: int,
          restore_at: int | None = None, change_at: int | None = None) -> list[dict]:
    """Asks `at_once` trials, then tells them (ASHA-like pruned, complete, failed, NaN), `trials` in all."""
    rng = random.Random(7)
    study = optuna.create_study(direction=direction, sampler=sampler)
    proposed: list[dict] = []
    while len(proposed) < trials:
        if restore_at is not None and len(proposed) >= restore_at:
            study, restore_at = pickle.loads(pickle.dumps(study)), None
        max_dropout = 0.7 if change_at is not None and len(proposed) >= change_at else 0.5
        asked = []
        for _ in range(at_once):
            t = study.ask()
            space(t, max_dropout)
            asked.append(t)
            proposed.append(dict(t.params))
        for t in asked:
            end = rng.choice(["pruned1", "pruned1", "pruned2", "complete", "nan", "failed", "empty"])
            epochs = {"pruned1": 1, "pruned2": 2, "complete": 4, "nan": 2, "failed": 1, "empty": 0}[end]
            for e in range(1, epochs + 1):
                t.report(math.nan if end == "nan" and e == epochs else score(t.params, e), e)
            if end == "complete":
                study.tell(t, score(t.params, 4))
            elif end == "failed":
                study.tell(t, state=TrialState.FAIL)
            else:
                study.tell(t, state=TrialState.PRUNED)
    return proposed


def samplers(**kwargs) -> tuple[optuna.samplers.BaseSampler, optuna.samplers.BaseSampler]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return (optuna.samplers.TPESampler(seed=3, multivariate=False, **kwargs),
                HistoryTPESampler(seed=3, multivariate=False, **kwargs))


@pytest.mark.parametrize("direction", ["maximize", "minimize"])
@pytest.mark.parametrize("constant_liar,at_once", [(True, 3), (False, 2)])
def test_it_proposes_what_optunas_tpe_proposes(direction, constant_liar, at_once):
    optunas, ours = samplers(n_startup_trials=10, constant_liar=constant_liar)
    expected = drive(optunas, direction, 120, at_once)
    assert drive(ours, direction, 120, at_once) == expected
    assert len({round(p["lr"], 12) for p in expected[10:]}) > 100  # the model proposed, not a fixed point


def test_a_restored_study_and_a_changed_distribution_propose_the_same():
    optunas, ours = samplers(n_startup_trials=5, constant_liar=True)
    expected = drive(optunas, "maximize", 90, 2, restore_at=40, change_at=60)
    assert drive(ours, "maximize", 90, 2, restore_at=40, change_at=60) == expected
    assert any(p["dropout"] > 0.5 for p in expected[60:])


def test_a_pickled_sampler_carries_no_history():
    _, ours = samplers(n_startup_trials=2)
    drive(ours, "maximize", 20, 2)
    assert ours._history is not None and len(ours._history.seen) > 10
    assert pickle.loads(pickle.dumps(ours))._history is None
