"""Multi-objective asynchronous successive halving on plain numbers: non-dominated sorting, the order used at a rung
and the rungs' promote-or-stop rule. No Ray here: `studies.tune.mo_asha` adapts it to a Ray Tune scheduler.

Reference: Schmucker et al., 2021, "Multi-objective Asynchronous Successive Halving" (MO-ASHA), as implemented in
Syne Tune (`syne_tune/optimizer/schedulers/multiobjective/`: `moasha.py`, `non_dominated_priority.py` and the
`Bracket` of `asha.py`). Written anew; where we differ from Syne Tune, `rung_order` and `Rungs` say so.

Directions: every "min" objective is negated, so below everything is maximised; a point dominates another when it is
at least as good on every objective and better on one. A point with any non-finite value (NaN, ±inf: a diverged
loss, a failed metric) dominates nothing and ranks after every finite point.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

MODES = ("min", "max")


@dataclass(frozen=True)
class Objective:
    name: str  # a result key, e.g. "val/acc"
    mode: str  # "min" or "max"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"objective {self.name!r}: mode must be one of {MODES}, but got {self.mode!r}.")


def _oriented(points: Sequence[Sequence[float]], modes: Sequence[str]) -> list[tuple[float, ...] | None]:
    """Each point as values to maximise ("min" ones negated), or None when one of its values is not finite."""
    for mode in modes:
        if mode not in MODES:
            raise ValueError(f"modes must be in {MODES}, but got {mode!r} in {list(modes)}.")
    out: list[tuple[float, ...] | None] = []
    for point in points:
        if len(point) != len(modes):
            raise ValueError(f"each point needs one value per mode, but got {len(point)=} for {len(modes)=}.")
        values = tuple(float(v) if m == "max" else -float(v) for v, m in zip(point, modes))
        out.append(values if all(math.isfinite(v) for v in values) else None)
    return out


def nondominated_ranks(points: Sequence[Sequence[float]], modes: Sequence[str]) -> list[int]:
    """Each point's front: 0 for the non-dominated ones, 1 for those only they dominate, and so on (Deb et al.'s fast
    non-dominated sort, O(M·n²), on a numpy dominance matrix: a rung decision among 1,000 records takes ~0.1 s on
    one core, where pure Python took 1.5 s of Tune's driver). Points with a non-finite value share the front after
    the last finite one."""
    pts = _oriented(points, modes)
    finite = [i for i, p in enumerate(pts) if p is not None]
    x = np.array([pts[i] for i in finite], dtype=float).reshape(len(finite), len(modes))
    dominates = (x[:, None, :] >= x[None, :, :]).all(-1) & (x[:, None, :] > x[None, :, :]).any(-1)  # [i, j]: i ≻ j
    dominated_by = dominates.sum(0)  # how many points dominate each one
    rank_of = np.full(len(finite), -1)
    front, rank = np.flatnonzero(dominated_by == 0), 0
    while front.size:
        rank_of[front] = rank
        dominated_by -= dominates[front].sum(0)
        dominated_by[front] = -1  # taken
        front, rank = np.flatnonzero(dominated_by == 0), rank + 1
    ranks = [rank] * len(pts)  # non-finite points: one front after the finite ones
    for i, r in zip(finite, rank_of.tolist()):
        ranks[i] = r
    return ranks


def rung_order(points: Sequence[Sequence[float]], modes: Sequence[str]) -> list[int]:
    """The indices of `points`, best first: by front (`nondominated_ranks`), and inside a front by an ε-net order.

    The ε-net order (Syne Tune's `compute_epsilon_net`, after Clarkson 2005) is greedy farthest-point traversal: it
    starts at the front's best point on the *first* objective, then repeatedly takes the point farthest from those
    already taken. Why this and not NSGA-II's crowding distance: a rung keeps a prefix of the order, and every
    prefix of a farthest-point traversal covers the front within twice the best possible radius (Gonzalez, 1985),
    while crowding distance is computed once, so two close neighbours of a sparse region can both be kept ahead of
    a lone point elsewhere. The first objective is the one to list first when one extreme of the front matters most.

    Deviation from Syne Tune: distances are taken on each objective scaled to [0, 1] by its range over the front,
    so an objective's unit (ms vs accuracy) does not decide the spread; Syne Tune uses raw values. Ties (equal
    values, equal distances) go to the lower index. Non-finite points keep their input order, after the rest.
    """
    return _order(_oriented(points, modes), nondominated_ranks(points, modes))


def _order(pts: list[tuple[float, ...] | None], ranks: list[int]) -> list[int]:
    order: list[int] = []
    for rank in range(max(ranks, default=-1) + 1):
        members = [i for i, r in enumerate(ranks) if r == rank]
        order += _epsilon_net(members, pts) if pts[members[0]] is not None else members
    return order


def _epsilon_net(members: list[int], pts: list[tuple[float, ...] | None]) -> list[int]:
    """`members` (finite points of one front) in greedy farthest-point order, seeded at the best first objective."""
    x = np.array([pts[i] for i in members], dtype=float)
    span = x.max(0) - x.min(0)
    scaled = (x - x.min(0)) / np.where(span > 0, span, 1.0)  # an objective constant over the front adds 0
    seed = int(np.argmax(x[:, 0]))  # argmax: the first of equals, i.e. the lower index
    taken = [seed]
    nearest = np.linalg.norm(scaled - scaled[seed], axis=1)  # distance to the closest point taken
    nearest[seed] = -1.0
    for _ in range(len(members) - 1):
        far = int(np.argmax(nearest))
        taken.append(far)
        nearest = np.minimum(nearest, np.linalg.norm(scaled - scaled[far], axis=1))
        nearest[taken] = -1.0
    return [members[i] for i in taken]


@dataclass(frozen=True)
class Verdict:
    """One rung decision: the trial's place among the `n` recorded at the rung, itself included."""

    promote: bool
    rung: float  # the rung's level, in the time unit the levels are in
    position: int  # 0 = first in `rung_order`
    n: int
    keep: int  # ⌈n/η⌉: how many of the n would continue
    front: int | None  # 0 = non-dominated at the rung; None: a non-finite value put it last


class Rungs:
    """Rungs at `grace_period`·η^k below `max_t`, and asynchronous promotion among what each has recorded so far.

    A trial reaching a rung for the first time is recorded there and continues iff its position in `rung_order`
    over the rung's records (itself included, n in all) is below ⌈n/η⌉: the top 1/η, rounded up so that the first
    trial at a rung continues. Exact ties go to the trial being decided: it is placed before the records, which
    follow in the order they were made. A trial whose time jumps past a rung is judged at the highest rung it has
    reached, with the values it has then (Ray's ASHA does the same).

    Deviation from Syne Tune's `Bracket.on_result`: it continues iff (number ranked ahead)/n ≤ 1/η, which keeps one
    more trial than ⌈n/η⌉ when η divides n (2 of 2 at η = 2; we keep 1). And its non-dominated priority returns the
    points' indices in order, best first, which `on_result` reads as each point's priority: a newcomer can then be
    stopped while it dominates every record (tests/studies/search/test_mo_rungs.py keeps that case). Here the newcomer's
    position is read from the order itself.
    """

    def __init__(self, *, objectives: Sequence[Objective], grace_period: float, max_t: float,
                 reduction_factor: float) -> None:
        if not objectives:
            raise ValueError("at least one objective is needed, but got none.")
        names = [o.name for o in objectives]
        if len(set(names)) != len(names):
            raise ValueError(f"objective names must differ, but got {names}.")
        if not 0 < grace_period <= max_t:
            raise ValueError(f"`0 < grace_period <= max_t` must hold, but got ({grace_period=}, {max_t=}).")
        if not reduction_factor > 1:
            raise ValueError(f"`reduction_factor > 1` must hold, but got {reduction_factor=}.")
        self.objectives = tuple(objectives)
        self.reduction_factor = reduction_factor
        levels, k = [], 0
        while grace_period * reduction_factor ** k < max_t:  # at max_t a trial ends anyway
            levels.append(grace_period * reduction_factor ** k)
            k += 1
        self.levels: tuple[float, ...] = tuple(levels)
        self.recorded: dict[float, dict[Hashable, tuple[float, ...]]] = {level: {} for level in levels}

    def rung_at(self, time: float) -> float | None:
        """The highest rung at or below `time`; None below the first."""
        reached = [level for level in self.levels if level <= time]
        return reached[-1] if reached else None

    def judge(self, trial_id: Hashable, time: float, values: Sequence[float]) -> Verdict | None:
        """Record `values` at the rung `time` reaches and say whether the trial continues; None when no rung is due
        (below the first, or this trial is already recorded at that rung): it continues."""
        if len(values) != len(self.objectives):
            raise ValueError(f"one value per objective {[o.name for o in self.objectives]}, but got {values=}.")
        rung = self.rung_at(time)
        if rung is None or trial_id in self.recorded[rung]:
            return None
        records = self.recorded[rung]
        points = [tuple(values), *records.values()]
        modes = [o.mode for o in self.objectives]
        ranks = nondominated_ranks(points, modes)
        position = _order(_oriented(points, modes), ranks).index(0)
        n = len(points)
        keep = math.ceil(n / self.reduction_factor)
        records[trial_id] = tuple(float(v) for v in values)
        front = ranks[0] if all(math.isfinite(v) for v in values) else None
        return Verdict(promote=position < keep, rung=rung, position=position, n=n, keep=keep, front=front)

    def decide(self, trial_id: Hashable, time: float, values: Sequence[float]) -> bool:
        """Whether the trial continues after reporting `values` at `time` (recording them at a rung that is due)."""
        verdict = self.judge(trial_id, time, values)
        return verdict is None or verdict.promote
