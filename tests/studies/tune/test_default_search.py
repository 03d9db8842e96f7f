"""A study's default search, `search="tpe", asha=Asha()`, is what measured best on LCBench's tuning half
(docs/research/lcbench.md, "The default"): Optuna's TPE one parameter at a time (not Optuna 5's joint default) with
constant liar and up to 10·η random start-up trials under ASHA (a quarter of a small study at most); ASHA with η 3 and its first rung after ⌈epochs/16⌉."""

from __future__ import annotations

import optuna
import pytest

from search_spaces import LogUniform, Uniform
from studies.study import Asha, Study, StudyError
from studies.tune import tuner
from trainables.config import TrainConfig

SPACE = {"optim.lr": LogUniform(1e-3, 0.3), "optim.momentum": Uniform(0.5, 0.99)}


def study(epochs: int = 52, **kw) -> Study:
    return Study(**{"name": "defaults", "profile": "local", "base": TrainConfig(epochs=epochs), "space": SPACE,
                    "search": "tpe", "num_samples": 20, "asha": Asha(), **kw})


@pytest.mark.parametrize(("epochs", "grace"), [(1, 1), (4, 1), (16, 1), (17, 2), (52, 4), (100, 7), (200, 13)])
def test_the_first_rung_comes_after_a_sixteenth_of_the_epochs(epochs, grace):
    assert Asha().grace(epochs) == grace
    assert Asha(grace_period=2).grace(epochs) == 2  # a grace period given is kept as given


def test_asha_keeps_a_third_and_refuses_what_cannot_be():
    assert Asha().reduction_factor == 3
    with pytest.raises(StudyError, match="grace_period >= 1"):
        Asha(grace_period=0)
    with pytest.raises(StudyError, match="reduction_factor >= 2"):
        Asha(reduction_factor=1)


def test_the_scheduler_ray_gets_has_those_rungs():
    scheduler = tuner._scheduler(study())
    assert (scheduler._reduction_factor, scheduler._max_t) == (3, 52)
    assert [rung for rung, _ in scheduler._brackets[0]._rungs] == [36, 12, 4]  # Ray's, highest first
    mo = tuner._scheduler(study(objectives=(("val/acc", "max"), ("sys/epoch_s", "min")), metric="", mode=""))
    assert sorted(mo.rungs.recorded) == [4, 12, 36]


@pytest.mark.parametrize(("asha", "samples", "startup"), [
    (Asha(), 10**6, 30), (Asha(), 120, 30), (Asha(), 80, 20), (Asha(reduction_factor=2), 1000, 20),
    (Asha(), 40, 10), (Asha(), 8, 10), (None, 1000, 10)])
def test_tpe_models_each_parameter_alone_with_constant_liar_and_more_start_up_under_asha(asha, samples, startup):
    searcher, _ = tuner._searcher(study(asha=asha, num_samples=samples), 4)
    sampler = searcher.study.sampler if hasattr(searcher, "study") else searcher._sampler
    assert isinstance(sampler, optuna.samplers.TPESampler)
    assert (sampler._n_startup_trials, sampler._multivariate, sampler._constant_liar) == (startup, False, True)


def test_the_dry_run_names_the_rungs_it_will_use():
    from studies.cli.dry_run import _summary

    assert "ASHA (grace 4 epochs, keeps 1/3 per rung;" in _summary(study())
