"""A random search of a conditional space: Optuna's RandomSampler draws it define-by-run (Tune's random search has
no conditional parameters), so each trial holds only the parameters that applied, and Optuna is told its end as TPE
is. A grid cannot enumerate a Conditional, and a Tune grid beside one would be lost: both refused in one line."""

from __future__ import annotations

import optuna
import pytest

from search_spaces import Choice, Conditional, Grid, LogUniform, Uniform
from studies.study import Study, StudyError
from studies.tune import tuner as tune
from trainables.config import TrainConfig

SPACE = {"optim.lr": LogUniform(1e-3, 0.3),
         "ses.enabled": Conditional({False: {}, True: {
             "ses.lam": LogUniform(1e-3, 1e-1),
             "ses.beta_schedule": Conditional({"fixed": {"ses.beta": Uniform(0.3, 0.9)},
                                               "linear": {"ses.beta_start": Uniform(0.1, 0.5),
                                                          "ses.beta_end": Uniform(0.5, 0.9)}})}})}


def study(**kw) -> Study:
    return Study(**{"name": "random_conditional", "profile": "local", "base": TrainConfig(epochs=2), "space": SPACE,
                    "search": "random", "num_samples": 30, **kw})


def test_optuna_samples_it_and_each_config_holds_what_applied():
    s = study()
    assert tune._space(s) == {}  # Tune's param space is empty: the searcher holds the space
    searcher, limit = tune._searcher(s, 2)
    assert limit == 2 and isinstance(searcher.study.sampler, optuna.samplers.RandomSampler)
    configs = [searcher.suggest(f"t{i}") for i in range(30)]
    for c in configs:
        assert 1e-3 <= c["optim.lr"] <= 0.3
        if not c["ses.enabled"]:
            assert set(c) == {"optim.lr", "ses.enabled"}
        elif c["ses.beta_schedule"] == "fixed":
            assert set(c) == {"optim.lr", "ses.enabled", "ses.lam", "ses.beta_schedule", "ses.beta"}
        else:
            assert set(c) == {"optim.lr", "ses.enabled", "ses.lam", "ses.beta_schedule", "ses.beta_start",
                              "ses.beta_end"}
    branches = {(c["ses.enabled"], c.get("ses.beta_schedule")) for c in configs}
    assert branches == {(False, None), (True, "fixed"), (True, "linear")}  # 30 draws reach every branch


def test_the_same_search_seed_draws_the_same_configs_and_another_does_not():
    def draws(seed):
        searcher, _ = tune._searcher(study(search_seed=seed), 2)
        return [searcher.suggest(f"t{i}") for i in range(5)]

    assert draws(3) == draws(3) and draws(3) != draws(4)


def test_a_seed_grid_replicates_each_draw_and_counts_its_trials():
    s = study(num_samples=4, space={**SPACE, "seed": Grid((0, 1, 2))})
    assert s.total_trials() == 12
    searcher, _ = tune._searcher(s, 2)
    first = [searcher.suggest(f"t{i}") for i in range(3)]
    assert [c["seed"] for c in first] == [0, 1, 2]
    assert len({tuple(sorted((k, v) for k, v in c.items() if k != "seed")) for c in first}) == 1


def test_a_grid_of_a_conditional_and_a_grid_beside_one_are_refused():
    with pytest.raises(StudyError, match="a grid cannot enumerate one"):
        study(search="grid")
    with pytest.raises(StudyError, match="optim.weight_decay is a Grid"):
        study(space={**SPACE, "optim.weight_decay": Grid((0.0, 1e-4))})
    assert study(space={**SPACE, "model.drop_rate": Choice((0.0, 0.1))}).total_trials() == 30
