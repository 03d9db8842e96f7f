"""Replicates told as one trial: Ray's Repeater, but the searcher hears the seeds' per-epoch mean and how the group
really ended, instead of Repeater's nan-mean of last values (a diverged seed vanishes in it; a list of metrics breaks it).
"""

from __future__ import annotations

import math
from typing import Any

from ray.tune.search import Repeater, Searcher

from studies.search.endings import EPOCH_KEY, STOP_DETAIL, STOP_REASON, objective_values


class MeanOfReplicates(Repeater):
    """Each suggested configuration is run `repeat` times (Repeater); when all have ended, the searcher is told
    once: per epoch every replicate reached, the mean of each objective (its intermediate values); then one end,
    at the fewest epochs a replicate reached: an error if any replicate raised, else the first labelled stop,
    else the mean there (so a group with a replicate stopped early by ASHA is a pruned trial). Its state (Repeater's
    groups and these curves) is saved with Tune's experiment state (SearchGenerator.save_to_dir: get_state)."""

    def __init__(self, searcher: Searcher, repeat: int, set_index: bool = True) -> None:
        super().__init__(searcher, repeat=repeat, set_index=set_index)
        self._curves: dict[str, dict[int, list[float]]] = {}  # replicate trial id -> epoch -> objectives
        self._ends: dict[str, tuple[dict[str, Any], bool]] = {}  # replicate trial id -> (last result, error)

    @property
    def objectives(self) -> list[str]:
        metric = self.searcher.metric
        return list(metric) if isinstance(metric, list) else [metric]

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        epoch, values = result.get(EPOCH_KEY), objective_values(result, self.objectives)
        if trial_id in self._trial_id_to_group and isinstance(epoch, (int, float)) and values is not None:
            self._curves.setdefault(trial_id, {}).setdefault(int(epoch), values)

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False,
                          **kwargs: Any) -> None:
        if trial_id not in self._trial_id_to_group:
            return
        if result:
            self.on_trial_result(trial_id, result)  # a scheduler's stopping result reaches only on_trial_complete
        self._ends[trial_id] = (dict(result or {}), error)
        group = self._trial_id_to_group[trial_id]
        group.report(trial_id, 0.0)  # Repeater's "has ended" mark; the scores are kept here
        if not group.finished_reporting():
            return
        members = list(group._trials)  # Repeater keeps no public list of a group's trial ids
        ends = [self._ends.pop(t) for t in members]
        curves = [self._curves.pop(t, {}) for t in members]
        primary = group.primary_trial_id
        if any(failed for _, failed in ends):
            self._tell_curve(primary, curves, before=math.inf)
            self.searcher.on_trial_complete(primary, result=None, error=True)
            return
        last = min((max(c) if c else 0) for c in curves)
        self._tell_curve(primary, curves, before=last)
        end: dict[str, Any] = {}
        if last:
            end = {EPOCH_KEY: last, **dict(zip(self.objectives, _mean([c[last] for c in curves if last in c])))}
        stopped = next((r for r, _ in ends if r.get(STOP_REASON)), None)
        if stopped is not None:
            end.update({STOP_REASON: stopped[STOP_REASON], STOP_DETAIL: stopped.get(STOP_DETAIL, "")})
        self.searcher.on_trial_complete(primary, result=end, error=False)

    def _tell_curve(self, primary: str, curves: list[dict[int, list[float]]], *, before: float) -> None:
        """The replicates' mean at each epoch before `before` that every replicate reported."""
        common = set.intersection(*(set(c) for c in curves)) if curves else set()
        for epoch in sorted(e for e in common if e < before):
            self.searcher.on_trial_result(primary, {EPOCH_KEY: epoch,
                                                    **dict(zip(self.objectives, _mean([c[epoch] for c in curves])))})


def _mean(rows: list[list[float]]) -> list[float]:
    """Column means; NaN where any replicate's value is NaN (a diverged seed is not averaged away)."""
    return [sum(column) / len(column) for column in zip(*rows)]
