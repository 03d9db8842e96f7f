"""The figures each run is scored by, on plain numbers: normalized regret of the best validation accuracy found within
a budget, the test accuracy of what that choice would deploy, the hypervolume of (regret, time), and mean ranks."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import rankdata

from analysis.hypervolume import hypervolume
from benchmarks.lcbench.ref_sample import Reference
from benchmarks.lcbench.sim_clock import Spent

FRACTIONS = (0.1, 0.3, 1.0)  # budget points: the fractions of the epoch budget each figure is read at
HV_REFERENCE = (1.0, 1.0)  # (regret 1 = the reference sample's median, the sample's median seconds for all epochs)


def normalized_regret(val_acc: float, ref: Reference) -> float:
    """0 at the reference sample's best validation accuracy, 1 at its median; below 0 when a search beats the best."""
    return (ref.best - val_acc) / (ref.best - ref.median)


def epochs_at(fraction: float, budget: int) -> int:
    """The epochs counted at a budget point: the first ⌈fraction·budget⌉ finished (at least 1)."""
    return max(1, math.ceil(fraction * budget - 1e-9))


def scores(log: Sequence[Spent], ref: Reference, budget: int, fractions: Sequence[float] = FRACTIONS) -> dict:
    """{"regret", "test_acc", "hypervolume"}: a list per budget point. The selected configuration (and epoch) is the
    one of highest validation accuracy among the epochs counted, and its test accuracy is what it would deploy."""
    val = np.array([s.val_acc for s in log])
    test = np.array([s.test_acc for s in log])
    objectives = np.column_stack([(ref.best - val) / (ref.best - ref.median),
                                  np.array([s.time for s in log]) / ref.median_time])
    out: dict[str, list[float]] = {"regret": [], "test_acc": [], "hypervolume": []}
    for fraction in fractions:
        n = epochs_at(fraction, budget)
        best = int(np.argmax(val[:n]))  # the first of equals
        out["regret"].append(normalized_regret(float(val[best]), ref))
        out["test_acc"].append(float(test[best]))
        out["hypervolume"].append(hypervolume(_front(objectives[:n]), HV_REFERENCE))
    return out


def _front(points: np.ndarray) -> np.ndarray:
    """The non-dominated points of a 2-D minimization (what the hypervolume reads; thousands of points in, few out)."""
    order = np.lexsort((points[:, 1], points[:, 0]))
    kept, low = [], math.inf
    for i in order:
        if points[i, 1] < low:
            kept.append(i)
            low = points[i, 1]
    return points[kept]


def mean_ranks(per_instance: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """{method: mean over instances of its rank} from {method: a value per instance (lower is better)}; 1 = best, ties
    share the mean of their ranks."""
    methods = list(per_instance)
    table = np.array([per_instance[m] for m in methods], dtype=float)  # (methods, instances)
    ranks = np.apply_along_axis(rankdata, 0, table)
    return {m: float(r) for m, r in zip(methods, ranks.mean(axis=1))}
