"""The Optuna adapter: a study's space as Optuna's define-by-run function, and Ray Tune's OptunaSearch told how each
trial really ended (every epoch an intermediate value; early-stopped trials PRUNED; a labelled stop never a score).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState
from ray.tune.search.optuna import OptunaSearch

from search_spaces import Choice, Conditional, Grid, IntRange, LogUniform, Uniform, Variants, validate_space
from search_spaces.conditional import OPTION_TYPES
from studies.search.endings import (
    EPOCH_KEY,
    STOP_DETAIL,
    STOP_REASON,
    STOP_STATES,
    ending,
    is_told_as_score,
    objective_values,
)
from studies.tune.tpe import HistoryTPESampler

logger = logging.getLogger(__name__)

# Optuna user attrs of each finished trial
ENDING_ATTR = "ending"  # "complete", "pruned", a stop reason ("diverged"), "error", ... (search_outcome.Ending)
EPOCH_ATTR = "epoch"  # epochs it completed
DETAIL_ATTR = STOP_DETAIL  # a labelled stop's one line, with its figures
CURVES_ATTR = "intermediate"  # multi-objective only (Optuna's report is single-objective): {metric: {epoch: value}}


@dataclass(frozen=True)
class DefineByRun:
    """`f(optuna_trial) -> constants`: suggests each parameter that applies, following the Conditionals taken.
    A class, not a closure: OptunaSearch saves its space with pickle for Tuner.restore."""

    space: Mapping[str, Any]

    def __call__(self, trial: optuna.Trial) -> dict[str, Any]:
        constants: dict[str, Any] = {}
        _suggest(trial, self.space, constants)
        return constants


def define_by_run(space: Mapping[str, Any]) -> DefineByRun:
    """Choice, Uniform, LogUniform, IntRange and Conditional as Optuna distributions, anything else a constant."""
    validate_space(space)
    for key, value in space.items():
        if isinstance(value, (Grid, Variants)):
            raise TypeError(f"search space {key!r}: a {type(value).__name__} runs every value, Optuna samples one; "
                            "use Choice (a Grid of seeds is for the Repeater: leave it out of this space)")
    return DefineByRun(dict(space))


def _suggest(trial: optuna.Trial, space: Mapping[str, Any], constants: dict[str, Any]) -> None:
    for key, param in space.items():
        if isinstance(param, Conditional):
            _suggest(trial, param.options[_categorical(trial, key, tuple(param.options), constants)], constants)
        elif isinstance(param, Choice):
            _categorical(trial, key, tuple(param.values), constants)
        elif isinstance(param, LogUniform):
            trial.suggest_float(key, param.low, param.high, log=True)
        elif isinstance(param, Uniform):
            trial.suggest_float(key, param.low, param.high)
        elif isinstance(param, IntRange):
            trial.suggest_int(key, param.low, param.high)  # both bounds inclusive, as IntRange's
        else:
            constants[key] = param


def _categorical(trial: optuna.Trial, key: str, values: tuple, constants: dict[str, Any]) -> Any:
    if all(isinstance(v, OPTION_TYPES) for v in values):
        return trial.suggest_categorical(key, values)
    # Optuna stores only None/bool/int/float/str: a tuple value (ses.beta_steps) is sampled by its label, and the
    # value itself goes to the config among the constants, which override the label Ray captured.
    labels = [repr(v) for v in values]
    constants[key] = value = values[labels.index(trial.suggest_categorical(key, labels))]
    return value


class HonestOptunaSearch(OptunaSearch):
    """Ray's OptunaSearch with the space given as `DefineByRun` and `metric`/`mode` (lists: multi-objective), which
    tells Optuna what happened: each epoch's objective an intermediate value at step `epoch`, and on completion the
    state `studies.search.endings.ending` gives (COMPLETE only at `max_epochs`), the why as user attrs."""

    def __init__(self, space: DefineByRun, *, metric: str | list[str], mode: str | list[str], max_epochs: int,
                 sampler: optuna.samplers.BaseSampler, stop_states: Mapping[str, str] = STOP_STATES,
                 study_name: str | None = None, storage: optuna.storages.BaseStorage | None = None) -> None:
        metrics, modes = ([metric], [mode]) if isinstance(metric, str) else (list(metric), list(mode))
        if isinstance(metric, str) != isinstance(mode, str) or len(metrics) != len(modes) or not metrics:
            raise ValueError(f"metric and mode must both be one name or lists of one length, but got "
                             f"({metric=}, {mode=}).")
        if any(m not in ("min", "max") for m in modes) or max_epochs < 1:
            raise ValueError(f"mode must be 'min' or 'max' and max_epochs >= 1, but got ({mode=}, {max_epochs=}).")
        if len(set(metrics)) != len(metrics):
            raise ValueError(f"each objective once, but got {metric=}.")
        super().__init__(space=space, metric=metric, mode=mode, sampler=sampler, study_name=study_name,
                         storage=storage)
        self.max_epochs = max_epochs
        self.stop_states = dict(stop_states)
        self._curves: dict[str, dict[int, list[float]]] = {}  # Tune trial id -> epoch -> objectives

    @property
    def objectives(self) -> list[str]:
        return list(self.metric) if isinstance(self.metric, list) else [self.metric]

    @property
    def study(self) -> optuna.Study:
        return self._ot_study

    def optuna_trial(self, trial_id: str) -> FrozenTrial:
        """The Optuna record of Tune trial `trial_id` (its state, params, intermediate values, user attrs)."""
        return self._ot_study.trials[self._ot_trials[trial_id].number]

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        if trial_id in self._completed_trials or trial_id not in self._ot_trials:
            return
        epoch, values = result.get(EPOCH_KEY), objective_values(result, self.objectives)
        if not isinstance(epoch, (int, float)) or values is None:
            return
        curve = self._curves.setdefault(trial_id, {})
        if int(epoch) in curve:  # a retried trial reports its epoch again; Optuna would keep the first, too
            return
        curve[int(epoch)] = values if is_told_as_score(result, self.stop_states) else [math.nan] * len(values)
        if len(values) == 1:
            self._ot_trials[trial_id].report(curve[int(epoch)][0], int(epoch))

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False) -> None:
        if trial_id in self._completed_trials or trial_id not in self._ot_trials:
            logger.warning("trial %s: told its end again (or never suggested); ignored", trial_id)
            return
        if result:
            self.on_trial_result(trial_id, result)  # the result a scheduler stopped on never reached on_trial_result
        end = ending(result, error=error, objectives=self.objectives, max_epochs=self.max_epochs,
                     stop_states=self.stop_states)
        trial = self._ot_trials[trial_id]
        trial.set_user_attr(ENDING_ATTR, end.reason)
        if end.epoch is not None:
            trial.set_user_attr(EPOCH_ATTR, end.epoch)
        if result and result.get(STOP_REASON) and result.get(STOP_DETAIL):
            trial.set_user_attr(DETAIL_ATTR, str(result[STOP_DETAIL]))
        curve = self._curves.pop(trial_id, {})
        if len(self.objectives) > 1 and curve:
            trial.set_user_attr(CURVES_ATTR, {m: {str(e): v[i] for e, v in sorted(curve.items())}
                                              for i, m in enumerate(self.objectives)})
        values = None if end.values is None else (end.values[0] if len(end.values) == 1 else list(end.values))
        self._ot_study.tell(trial, values, state=TrialState[end.state])
        self._completed_trials.add(trial_id)


STARTUP = 10  # Optuna's TPE default: random trials before the model is fitted (x η under ASHA: studies.tune.tuner)


def _tpe(seed: int | None, startup: int = STARTUP) -> optuna.samplers.BaseSampler:
    # One density per parameter (conditional parameters by define-by-run), not Optuna 5's single-objective default
    # of a joint one: with ASHA the joint TPE ranked last on LCBench's tuning half, the independent one first
    # (docs/research/lcbench.md, "The default"). constant_liar ("experimental"): trials Tune runs at once are not
    # all proposed at the same spot. HistoryTPESampler: Optuna's proposals, without re-reading the whole study for
    # every parameter of every trial (studies.tune.tpe).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return HistoryTPESampler(seed=seed, n_startup_trials=startup, multivariate=False, constant_liar=True)


def _nsga2(seed: int | None, startup: int = STARTUP) -> optuna.samplers.BaseSampler:
    return optuna.samplers.NSGAIISampler(seed=seed)  # random for its first population (50 trials)


def _gp(seed: int | None, startup: int = STARTUP) -> optuna.samplers.BaseSampler:
    # Gaussian-process Bayesian optimization of one objective (search="gp"): beat TPE + ASHA on LCBench at full
    # fidelity (docs/research/lcbench.md); it models COMPLETE trials only, so ASHA's stopped trials teach it nothing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=startup)


def _random(seed: int | None, startup: int = STARTUP) -> optuna.samplers.BaseSampler:
    return optuna.samplers.RandomSampler(seed=seed)  # a random search of a conditional space (studies.tune.tuner)


SAMPLERS: dict[str, Callable[[int | None, int], optuna.samplers.BaseSampler]] = {"tpe": _tpe, "nsga2": _nsga2,
                                                                                "gp": _gp, "random": _random}


def make_searcher(space: Mapping[str, Any], objectives: Mapping[str, str], *, max_epochs: int, seed: int | None,
                  sampler: str = "tpe", stop_states: Mapping[str, str] = STOP_STATES,
                  startup: int = STARTUP) -> HonestOptunaSearch:
    """The searcher for Tune: `objectives` {metric: 'min' | 'max'} (several: multi-objective), `max_epochs` the
    epoch a trial must reach to be COMPLETE (ASHA's max_t), `startup` TPE's random trials before its model. Tune's
    param_space must then hold no distributions."""
    try:
        make = SAMPLERS[sampler]
    except KeyError:
        raise KeyError(f"unknown sampler {sampler!r}; valid: {', '.join(SAMPLERS)}") from None
    if not objectives:
        raise ValueError("make_searcher needs at least one objective, but got objectives={}.")
    metrics, modes = list(objectives), list(objectives.values())
    metric, mode = (metrics[0], modes[0]) if len(metrics) == 1 else (metrics, modes)
    return HonestOptunaSearch(define_by_run(space), metric=metric, mode=mode, max_epochs=max_epochs,
                              sampler=make(seed, startup), stop_states=stop_states)
