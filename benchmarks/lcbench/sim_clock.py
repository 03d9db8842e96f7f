"""The asynchronous simulated clock every method runs on: W workers, each training one trial epoch by epoch, an epoch
taking the surrogate's seconds for it; the method is asked for a trial whenever a worker is free and told each
epoch's result as the clock reaches its end. The run stops dispatching epochs once `budget` epochs are dispatched, so
every method spends exactly `budget` epochs (the last ones in flight still report)."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

MIN_EPOCH_S = 1e-3  # seconds: the surrogate's cumulative time dips at 0.3% of epochs; an epoch never takes less


@dataclass(frozen=True)
class Result:
    epoch: int  # 1-based
    val_acc: float  # percent
    time: float  # seconds since the trial started (the surrogate's cumulative time)


class Method(Protocol):
    """What the clock drives: asked for trial `trial_id`'s config, told each epoch, told the end of a trial it stopped
    or that reached the last epoch (a trial the budget cuts is not ended)."""

    def suggest(self, trial_id: int) -> Mapping[str, Any] | None: ...

    def report(self, trial_id: int, result: Result) -> bool: ...  # continue?

    def end(self, trial_id: int, result: Result) -> None: ...


@dataclass(frozen=True)
class Spent:
    """One epoch, as the clock finished it."""

    trial: int
    epoch: int
    val_acc: float  # percent
    test_acc: float  # percent
    time: float  # the trial's seconds so far
    clock: float  # the simulated wall clock at the epoch's end


# evaluate(config) -> (time, val_acc, test_acc), each an array over epochs 1..max_epochs
Evaluate = Callable[[Mapping[str, Any]], tuple[np.ndarray, np.ndarray, np.ndarray]]


def simulate(method: Method, evaluate: Evaluate, *, workers: int, budget: int, max_epochs: int) -> list[Spent]:
    """Run `method` until `budget` epochs are spent; every epoch in order of completion on the simulated clock."""
    if workers < 1 or budget < 1 or max_epochs < 1:
        raise ValueError(f"workers, budget and max_epochs must be >= 1, but got ({workers=}, {budget=}, {max_epochs=}).")
    heap: list[tuple[float, int, int]] = []  # (clock at the epoch's end, sequence number, trial)
    curves: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    epoch_of: dict[int, int] = {}
    log: list[Spent] = []
    state = {"dispatched": 0, "trials": 0, "seq": 0}

    def dispatch(trial: int, now: float) -> None:
        time = curves[trial][0]
        e = epoch_of[trial] + 1
        seconds = max(time[e - 1] - (time[e - 2] if e > 1 else 0.0), MIN_EPOCH_S)
        heapq.heappush(heap, (now + seconds, state["seq"], trial))
        state["seq"] += 1
        state["dispatched"] += 1

    def start(now: float) -> bool:
        if state["dispatched"] >= budget:
            return False
        trial = state["trials"]
        config = method.suggest(trial)
        if config is None:
            return False
        state["trials"] += 1
        curves[trial], epoch_of[trial] = evaluate(config), 0
        dispatch(trial, now)
        return True

    idle = 0
    for _ in range(workers):
        idle += not start(0.0)
    while heap:
        now, _, trial = heapq.heappop(heap)
        epoch_of[trial] = e = epoch_of[trial] + 1
        time, val, test = curves[trial]
        log.append(Spent(trial, e, float(val[e - 1]), float(test[e - 1]), float(time[e - 1]), now))
        result = Result(e, float(val[e - 1]), float(time[e - 1]))
        go = method.report(trial, result) and e < max_epochs
        if go and state["dispatched"] < budget:
            dispatch(trial, now)
            continue
        if not go:
            method.end(trial, result)
        free, idle = 1 + idle, 0  # this worker, and any that found nothing to start before
        for _ in range(free):
            idle += not start(now)
    return log
