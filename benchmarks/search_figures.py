"""The search-efficiency benchmark's figures from a search's log (one row per epoch reported, in the order Tune
delivered them): epochs spent until a target is reached, hypervolume reached per epoch budget. Pure: no Ray.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from analysis.hypervolume import hypervolume  # Optuna's exact WFG; what the study report uses too

Row = Mapping[str, Any]  # {"trial": n, "epoch": e, metric: value, ...}: one epoch's report


def epochs_to_target(log: Sequence[Row], metric: str, target: float, mode: str = "max") -> int | None:
    """Epochs spent (rows of the log, each one epoch of one trial) up to and including the first report whose
    `metric` reaches `target`; None if none does."""
    for spent, row in enumerate(log, start=1):
        value = row.get(metric)
        if value is not None and math.isfinite(value) and (value >= target if mode == "max" else value <= target):
            return spent
    return None


def best(log: Sequence[Row], metric: str, mode: str = "max") -> float:
    """The best `metric` any trial reported at any epoch."""
    values = [r[metric] for r in log if r.get(metric) is not None and math.isfinite(r[metric])]
    return (max if mode == "max" else min)(values)


def hypervolume_at(log: Sequence[Row], objectives: Sequence[tuple[str, str]], reference: Sequence[float],
                   budgets: Sequence[int]) -> list[float]:
    """The hypervolume of every point reported in the first `b` epochs of the log, for each budget `b` (a log
    shorter than `b` gives its full hypervolume: the search stopped before spending it). Objectives to maximize are
    negated, with their reference coordinate."""
    signs = [1.0 if mode == "min" else -1.0 for _, mode in objectives]
    ref = [s * r for s, r in zip(signs, reference)]
    points = [(spent, [s * row[m] for s, (m, _) in zip(signs, objectives)])
              for spent, row in enumerate(log, start=1) if all(row.get(m) is not None for m, _ in objectives)]
    return [hypervolume([p for spent, p in points if spent <= b], ref) for b in budgets]


def spread(values: Sequence[float | None], digits: int = 0) -> str:
    """median [min–max] of the values; a None (target never reached) counts as +inf and shows as '—'."""
    xs = [math.inf if v is None else float(v) for v in values]

    def fmt(x: float) -> str:
        return "—" if math.isinf(x) else f"{x:.{digits}f}"

    return f"{fmt(statistics.median(xs))} [{fmt(min(xs))}–{fmt(max(xs))}]"
