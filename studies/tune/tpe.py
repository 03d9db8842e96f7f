"""Optuna's TPE sampler, proposing exactly what it proposes, with the history it reads kept between asks.

Optuna's `TPESampler._sample` re-reads the whole study for every parameter of every trial: it sorts all finished
trials into the best `gamma(n)` ("below") and the rest ("above") and converts each trial's value to its internal
form, in Python, one trial at a time. With one density per parameter (hpstudy's default) that is a few passes over
the history per parameter per trial: 0.6 s per trial at 8,000 trials, most of a 10,000-trial study's driver
(docs/benchmarks.md, "Driver scale"). `HistoryTPESampler` keeps, per study, each finished trial's sort key and
internal values as it first sees it (a finished trial never changes) and builds Optuna's own Parzen estimators from
arrays: the same observations in the same order, the same random draws, so the same proposals (tested against
Optuna's sampler trial by trial). What it does not cover (several objectives, constraints, several parameters at
once) goes to Optuna's code unchanged.
"""

from __future__ import annotations

import bisect
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers._tpe.sampler import _get_infeasible_trial_score, _get_pruned_trial_score, default_gamma
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


class _History:
    """The finished trials of one study as the split and the densities read them: COMPLETE and PRUNED trials each
    in Optuna's order (best first, ties by trial number), and per parameter the trial numbers and internal values."""

    def __init__(self, key: tuple[int, int]) -> None:
        self.key = key  # (id of the storage, study id)
        self.seen: set[int] = set()
        self.complete: list[tuple[Any, int]] = []  # (sort key, trial number), sorted
        self.pruned: list[tuple[Any, int]] = []
        self.numbers: dict[str, list[int]] = {}  # parameter -> numbers of the finished trials that have it
        self.values: dict[str, list[float]] = {}  # parameter -> their internal values, in the same order
        self.distributions: dict[str, set[BaseDistribution]] = {}  # parameter -> the distributions it had
        self.infeasible = False

    def add(self, trial: FrozenTrial, study: optuna.Study) -> None:
        self.seen.add(trial.number)
        if _get_infeasible_trial_score(trial) > 0:
            self.infeasible = True  # Optuna ranks infeasible trials apart: its own code does that
            return
        if trial.state == TrialState.COMPLETE:
            value = float(trial.value)  # type: ignore[arg-type]
            key = value if study.direction == StudyDirection.MINIMIZE else -value
            bisect.insort(self.complete, (key, trial.number))
        else:
            bisect.insort(self.pruned, (_get_pruned_trial_score(trial, study), trial.number))
        for name, value in trial.params.items():
            self.numbers.setdefault(name, []).append(trial.number)
            dist = trial.distributions[name]
            self.values.setdefault(name, []).append(dist.to_internal_repr(value))
            self.distributions.setdefault(name, set()).add(dist)


class HistoryTPESampler(optuna.samplers.TPESampler):
    """`optuna.samplers.TPESampler` (same arguments) whose single-objective, unconstrained, one-parameter-at-a-time
    sampling reads a history kept between asks instead of the whole study each time. For one asking thread (Ray
    Tune's searcher asks from its loop), not for `study.optimize(n_jobs=...)`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._history: _History | None = None
        self._asking: tuple[int, list[FrozenTrial]] | None = None  # the trial being asked, the others running

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_history"] = state["_asking"] = None  # rebuilt from the study on the first ask after a restore
        return state

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        history = self._history
        if (history is not None and history.key == _key(study) and len(history.seen) >= self._n_startup_trials
                and not self._is_multivariate(study)):
            # Optuna counts the finished trials again for its start-up check; they never go away, so once past it
            # the study stays past it
            return self._sample(study, trial, {param_name: param_distribution})[param_name]
        return super().sample_independent(study, trial, param_name, param_distribution)

    def _sample(self, study: optuna.Study, trial: FrozenTrial,
                search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        if len(search_space) != 1 or study._is_multi_objective() or self._constraints_func is not None:
            return super()._sample(study, trial, search_space)
        history, running = self._updated(study, trial.number)
        (name, dist), = search_space.items()
        if history.infeasible or history.distributions.get(name, {dist}) != {dist}:
            # Optuna converts every value with the distribution asked now: one the parameter did not always have
            # (a changed range or choices), or an infeasible trial, is its code's case
            return super()._sample(study, trial, search_space)
        if self._gamma is None:
            self._gamma = default_gamma
        n_below = self._gamma(len(history.seen))
        below = {number for _, number in history.complete[:n_below]}
        below.update(number for _, number in history.pruned[:max(0, n_below - len(below))])

        numbers = np.asarray(history.numbers.get(name, ()), dtype=np.int64)
        values = np.asarray(history.values.get(name, ()), dtype=float)
        in_below = np.isin(numbers, np.fromiter(below, dtype=np.int64, count=len(below)))
        lying = [(t.number, dist.to_internal_repr(t.params[name])) for t in running if name in t.params]
        above_numbers = np.concatenate([numbers[~in_below], np.asarray([n for n, _ in lying], dtype=np.int64)])
        above_values = np.concatenate([values[~in_below], np.asarray([v for _, v in lying], dtype=float)])
        mpe_below = self._parzen_estimator_cls(
            {name: values[in_below][np.argsort(numbers[in_below], kind="stable")]}, search_space,
            self._parzen_estimator_parameters)
        mpe_above = self._parzen_estimator_cls(
            {name: above_values[np.argsort(above_numbers, kind="stable")]}, search_space,
            self._parzen_estimator_parameters)
        samples_below = mpe_below.sample(self._rng.rng, self._n_ei_candidates)
        chosen = self._compare(samples_below, self._compute_acquisition_func(samples_below, mpe_below, mpe_above))
        return {name: dist.to_external_repr(chosen[name])}

    def _updated(self, study: optuna.Study, asking: int) -> tuple[_History, list[FrozenTrial]]:
        """The study's history with the trials finished since the last ask added, and the other running trials
        (constant_liar counts them above). Read once per asked trial: nothing finishes while one trial's
        parameters are suggested, one after another, in the driver."""
        key = _key(study)
        if self._history is None or self._history.key != key:
            self._history, self._asking = _History(key), None
        if self._asking is not None and self._asking[0] == asking:
            return self._history, self._asking[1]
        states = (*_FINISHED, TrialState.RUNNING) if self._constant_liar else _FINISHED
        history, running = self._history, []
        for t in study._get_trials(deepcopy=False, states=states, use_cache=not self._constant_liar):
            if t.state == TrialState.RUNNING:
                if t.number != asking:
                    running.append(t)
            elif t.number not in history.seen:
                history.add(t, study)
        self._asking = (asking, running)
        return history, running


def _key(study: optuna.Study) -> tuple[int, int]:
    return id(study._storage), study._study_id
