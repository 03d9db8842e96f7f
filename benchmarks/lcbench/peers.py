"""The tuners a researcher would pick instead, each with its documented defaults, as `sim_clock.Method`s: random
search at full fidelity, Optuna's TPE with its Hyperband pruner (standalone, ask-and-tell), and Syne Tune's ASHA,
BOHB and MOASHA (their scheduler objects, driven as its simulator backend drives them)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from benchmarks.lcbench.ours import SPACE
from benchmarks.lcbench.sim_clock import Result
from benchmarks.lcbench.yahpo_surrogate import EPOCHS
from search_spaces import IntRange, LogUniform


class RandomSearch:
    """Uniform samples of the space, each trained for every epoch."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def suggest(self, trial_id: int) -> Mapping[str, Any]:
        out = {}
        for key, d in SPACE.items():
            if isinstance(d, IntRange):
                out[key] = int(self.rng.integers(d.low, d.high + 1))
            elif isinstance(d, LogUniform):
                out[key] = float(np.exp(self.rng.uniform(np.log(d.low), np.log(d.high))))
            else:
                out[key] = float(self.rng.uniform(d.low, d.high))
        return out

    def report(self, trial_id: int, result: Result) -> bool:
        return True

    def end(self, trial_id: int, result: Result) -> None:
        pass


class OptunaTPE:
    """Optuna standalone: TPESampler(multivariate=True, constant_liar=True) (Optuna's advice for parallel workers)
    and `pruner` (default HyperbandPruner(min_resource=1, max_resource=EPOCHS, reduction_factor=3)); or, with
    pruner "none" and sampler "gp", Optuna's GPSampler (Gaussian-process Bayesian optimization, its defaults), each
    trial trained for every epoch: its model is of finished trials only."""

    def __init__(self, seed: int, pruner: str = "hyperband", sampler: str = "tpe") -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            made = (optuna.samplers.GPSampler(seed=seed) if sampler == "gp"
                    else optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True))
        pruners = {"hyperband": lambda: optuna.pruners.HyperbandPruner(min_resource=1, max_resource=EPOCHS),
                   "sha": lambda: optuna.pruners.SuccessiveHalvingPruner(),
                   "none": lambda: optuna.pruners.NopPruner()}
        self.study = optuna.create_study(direction="maximize", sampler=made, pruner=pruners[pruner]())
        self.trials: dict[int, Any] = {}
        self.pruned: set[int] = set()
        self.TrialState = optuna.trial.TrialState

    def suggest(self, trial_id: int) -> Mapping[str, Any]:
        trial = self.trials[trial_id] = self.study.ask()
        out = {}
        for key, d in SPACE.items():
            if isinstance(d, IntRange):
                out[key] = trial.suggest_int(key, d.low, d.high)
            else:
                out[key] = trial.suggest_float(key, d.low, d.high, log=isinstance(d, LogUniform))
        return out

    def report(self, trial_id: int, result: Result) -> bool:
        trial = self.trials[trial_id]
        trial.report(result.val_acc, result.epoch)
        if trial.should_prune():
            self.pruned.add(trial_id)
            return False
        return True

    def end(self, trial_id: int, result: Result) -> None:
        trial = self.trials.pop(trial_id)
        if trial_id in self.pruned:
            self.study.tell(trial, state=self.TrialState.PRUNED)
        else:
            self.study.tell(trial, result.val_acc)


def syne_space() -> dict[str, Any]:
    """The same space in Syne Tune's terms (lograndint for YAHPO's log-scaled integers)."""
    from syne_tune.config_space import lograndint, loguniform, randint, uniform

    return {"batch_size": lograndint(16, 512), "learning_rate": loguniform(1e-4, 1e-1), "momentum": uniform(0.1, 0.99),
            "weight_decay": uniform(1e-5, 1e-1), "num_layers": randint(1, 5), "max_units": lograndint(64, 1024),
            "max_dropout": uniform(0.0, 1.0)}


class SyneTune:
    """A Syne Tune scheduler (`ASHA`, `BOHB`: val error minimized; `MOASHA`: (val error, time)), max_t = EPOCHS,
    everything else its default (grace_period 1, reduction_factor 3, one bracket, stopping type)."""

    def __init__(self, name: str, seed: int) -> None:
        from datetime import datetime

        from syne_tune.backend.trial_status import Trial
        from syne_tune.optimizer import baselines
        from syne_tune.optimizer.scheduler import SchedulerDecision
        from syne_tune.optimizer.schedulers.multiobjective.moasha import MOASHA

        np.random.seed(seed)  # Syne Tune's bracket choice and MOASHA's sampling use numpy's global generator
        common = dict(config_space=syne_space(), time_attr="epoch", max_t=EPOCHS, random_seed=seed)
        if name == "MOASHA":
            common.pop("random_seed")
            self.scheduler = MOASHA(metrics=["val_error", "time"], do_minimize=True, **common)
        else:
            self.scheduler = getattr(baselines, name)(metric="val_error", do_minimize=True, **common)
        self.Trial, self.now, self.CONTINUE = Trial, datetime.now, SchedulerDecision.CONTINUE
        self.trials: dict[int, Any] = {}
        self.last: dict[int, dict[str, float]] = {}

    def suggest(self, trial_id: int) -> Mapping[str, Any] | None:
        suggestion = self.scheduler.suggest()
        if suggestion is None:
            return None
        trial = self.trials[trial_id] = self.Trial(trial_id=trial_id, config=suggestion.config,
                                                   creation_time=self.now())
        self.scheduler.on_trial_add(trial)
        return suggestion.config

    def report(self, trial_id: int, result: Result) -> bool:
        self.last[trial_id] = flat = {"epoch": result.epoch, "val_error": 100.0 - result.val_acc, "time": result.time}
        return self.scheduler.on_trial_result(self.trials[trial_id], flat) == self.CONTINUE

    def end(self, trial_id: int, result: Result) -> None:
        self.scheduler.on_trial_complete(self.trials.pop(trial_id), self.last.pop(trial_id))
