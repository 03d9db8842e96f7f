"""search="gp": Optuna's GPSampler samples a study's space (one objective), seeded like TPE, told each trial's true
ending; what it cannot take is refused in one line."""

from __future__ import annotations

import math

import optuna
import pytest

from search_spaces import Grid, IntRange, LogUniform, Uniform
from studies.study import Asha, Study, StudyError
from studies.tune import tuner as tune
from trainables.config import TrainConfig

SPACE = {"optim.lr": LogUniform(1e-3, 0.3), "model.drop_rate": Uniform(0.0, 0.5), "sched.warmup_epochs": IntRange(0, 2)}


def study(**kw) -> Study:
    return Study(**{"name": "gp", "profile": "local", "base": TrainConfig(epochs=3), "space": SPACE, "search": "gp",
                    "num_samples": 20, **kw})


def _accuracy(config: dict) -> float:
    return 0.9 - (math.log10(config["optim.lr"]) + 1.5) ** 2 / 4 - config["model.drop_rate"] / 5


def test_optuna_samples_it_with_its_gp_and_learns_from_completed_trials():
    s = study()
    assert s.sampled_by_optuna() and tune._space(s) == {} and s.total_trials() == 20
    searcher, limit = tune._searcher(s, 2)
    assert limit == 2 and isinstance(searcher.study.sampler, optuna.samplers.GPSampler)
    for i in range(16):  # 10 random start-up trials, then the model's
        config = searcher.suggest(f"t{i}")
        assert 1e-3 <= config["optim.lr"] <= 0.3 and 0 <= config["model.drop_rate"] <= 0.5
        for epoch in (1, 2, 3):
            searcher.on_trial_result(f"t{i}", {"epoch": epoch, s.metric: _accuracy(config)})
        searcher.on_trial_complete(f"t{i}", {"epoch": 3, s.metric: _accuracy(config)})
    trials = searcher.study.trials
    assert {t.state.name for t in trials} == {"COMPLETE"} and len(trials) == 16
    modelled = [_accuracy(t.params) for t in trials[10:]]
    assert max(modelled) > sorted(_accuracy(t.params) for t in trials[:10])[5]  # not worse than a random median


def test_the_same_search_seed_samples_the_same_configs():
    def draws(seed):
        searcher, _ = tune._searcher(study(search_seed=seed), 2)
        return [searcher.suggest(f"t{i}") for i in range(4)]

    assert draws(3) == draws(3) and draws(3) != draws(4)


@pytest.mark.parametrize("kw, says", [
    ({"space": {**SPACE, "model.drop_rate": Grid((0.0, 0.1))}}, "search 'gp' samples its space, but model.drop_rate"),
    ({"objectives": (("val/acc", "max"), ("val/loss", "min"))}, "several objectives need search 'tpe' or 'random'"),
])
def test_what_it_cannot_take_is_refused_naming_it(kw, says):
    with pytest.raises(StudyError, match=says):
        study(**kw)


def test_with_asha_it_is_allowed_and_its_start_up_is_tpes():
    s = study(asha=Asha(grace_period=1, reduction_factor=3), num_samples=200)
    assert tune.tpe_startup(s) == 30  # 10 x eta, as TPE under ASHA
    searcher, _ = tune._searcher(s, 2)
    assert searcher.study.sampler._n_startup_trials == 30
