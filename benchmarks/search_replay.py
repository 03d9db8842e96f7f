"""Searches of the search-efficiency benchmark, run by the project's own Tune adapter (`studies.tune.tuner.run_tuner`: its
searchers, ASHA and MO-ASHA) on trials whose values come from a table of recorded curves or a closed form.

Each trial reports one value per epoch, as the training loop does, so a scheduler stops it on the real curve; the
log keeps every report in the order the driver received it, which is what "epochs spent" counts.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from ray import cloudpickle

# Ray workers import modules by name; this one is shipped by value, so a worker needs no benchmarks/ on its path.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def curve_key(config: Mapping[str, Any], keys: Sequence[str]) -> str:
    """A table's key for a configuration: its values of `keys`, as floats (Tune's random choice gives numpy's)."""
    return "|".join(repr(float(config[k])) for k in keys)


@dataclass(frozen=True)
class Replay:
    """A `studies.tune.tuner.TrialFactory`: trial `config` reports `curves[curve_key(config)][e - 1]` as `metric` at each
    epoch e, so a search replays what the trainer recorded for that configuration."""

    curves: Mapping[str, Sequence[float]]
    keys: tuple[str, ...]
    metric: str = "val/acc"
    epoch_s: float = 0.0  # sleep per epoch: lets concurrent trials interleave as trained ones do

    def __call__(self, study, resolve, storage):
        from studies.tune.tuner import TrialFn

        curves, keys, metric, epoch_s = dict(self.curves), self.keys, self.metric, self.epoch_s

        def trial(config: dict[str, Any]) -> None:
            import ray.tune

            for epoch, value in enumerate(curves[curve_key(config, keys)], start=1):
                time.sleep(epoch_s)
                ray.tune.report({"epoch": epoch, metric: value})

        return TrialFn(trial, resources={"cpu": study.cpus_per_trial}, reuse_process=True)


# --- a closed-form two-objective problem with a known front ----------------------------------------------------

def zdt1(x1: float, x2: float) -> tuple[float, float]:
    """ZDT1's shape in two variables (Zitzler, Deb, Thiele 2000), both minimized: f1 = x1, f2 = g(1 - sqrt(f1/g)),
    with a milder g = 1 + x2 than ZDT1's 1 + 9 x2, under which almost no random point lands inside the reference
    box (1, 1) and every search's hypervolume stays 0 for dozens of trials. The Pareto front is still x2 = 0:
    f2 = 1 - sqrt(f1), f1 in [0, 1], of hypervolume 2/3 below (1, 1)."""
    g = 1.0 + x2
    return x1, g * (1.0 - math.sqrt(x1 / g))


ZDT1_FRONT_HV = 2.0 / 3.0  # the integral of sqrt(f1) over [0, 1]: the box below (1, 1) minus the area under the front


def zdt1_at(x1: float, x2: float, epoch: int, epochs: int) -> tuple[float, float]:
    """`zdt1` seen after `epoch` of `epochs`: each objective above its final value by b(x) (1/epoch - 1/epochs),
    with b(x) in [0.1, 0.5] depending on the config, so configurations learn at different speeds and a rung's
    ranking is informative but not exact; at `epochs` the values are `zdt1`'s."""
    late = 1.0 / epoch - 1.0 / epochs
    f = zdt1(x1, x2)
    return tuple(v + (0.1 + 0.4 * math.sin(5.0 * x1 + 3.0 * x2 + i) ** 2) * late for i, v in enumerate(f))


@dataclass(frozen=True)
class ClosedFormZDT1:
    """A `studies.tune.tuner.TrialFactory`: reports val/f1, val/f2 (`zdt1_at`) and their mean val/sum each epoch."""

    epoch_s: float = 0.0

    def __call__(self, study, resolve, storage):
        from studies.tune.tuner import TrialFn

        epochs, epoch_s = study.base.epochs, self.epoch_s

        def trial(config: dict[str, Any]) -> None:
            import ray.tune

            for epoch in range(1, epochs + 1):
                time.sleep(epoch_s)
                f1, f2 = zdt1_at(float(config["x1"]), float(config["x2"]), epoch, epochs)
                ray.tune.report({"epoch": epoch, "val/f1": f1, "val/f2": f2, "val/sum": 0.5 * (f1 + f2)})

        return TrialFn(trial, resources={"cpu": study.cpus_per_trial}, reuse_process=True)


# --- running one search ----------------------------------------------------------------------------------------

def run_search(study, factory, cluster, name: str) -> list[dict[str, Any]]:
    """Run `study` once through `studies.tune.tuner.run_tuner` with `factory`'s trials; the log of every epoch reported:
    {"trial": n (in order of start), "epoch": e, metric: value, ...}."""
    from studies.tune import tuner as tune

    order: dict[str, int] = {}
    log: list[dict[str, Any]] = []

    def started(trial_id: str, config: dict[str, Any]) -> None:
        order.setdefault(trial_id, len(order))

    def result(trial_id: str, report: dict[str, Any]) -> None:
        if "epoch" in report:
            log.append({"trial": order.setdefault(trial_id, len(order)), **report})

    events = tune.TrialEvents(started, result, lambda *a: None)
    np.random.seed(study.search_seed)  # Tune's random search draws from numpy's global RNG (studies.tune.tuner._searcher)
    with tempfile.TemporaryDirectory(prefix="search_efficiency_") as storage:
        trial = factory(study, lambda config: config, storage)
        tune.run_tuner(study, trial, cluster=cluster, storage=storage, name=name, events=events, resume=False)
    return log
