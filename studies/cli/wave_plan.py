"""Sequential replication's bookkeeping, pure: from the trials so far, each configuration's decision against the
baseline and the seeds the next wave trains. `studies.cli.waves` runs the waves; `analysis.sequential` judges.

A configuration is judged on the seeds both it and the baseline completed, in seed order. It gets more seeds while
it is open and has tried fewer than the policy's maximum; then it is *undecided*. Every open configuration and the
baseline train the next wave's seeds, as many as the open configuration furthest from its next look needs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from analysis.sequential import OPEN, UNDECIDED, Decision, interval, judge
from hpstudy.schema import statuses
from hpstudy.schema.replication_policy import Replication


@dataclass(frozen=True)
class Result:
    """One trial as the waves see it: its configuration's label, seed, status and final value of the metric."""

    config: str
    seed: int
    status: str
    value: float | None


@dataclass(frozen=True)
class Wave:
    decisions: dict[str, Decision]  # every configuration but the baseline, in the order given
    tried: dict[str, int]  # seeds each configuration has trained (whatever their end)
    seeds: tuple[int, ...]  # what the next wave trains; () when every comparison has ended

    @property
    def open(self) -> list[str]:
        return [c for c, d in self.decisions.items() if d.verdict == OPEN]


def plan_wave(results: Iterable[Result], configs: list[str], baseline: str, policy: Replication,
              mode: str = "max", first_seed: int = 0) -> Wave:
    """The decisions after `results` and the next wave's seeds, for `configs` (the baseline among them); seeds from
    `first_seed` on."""
    results = list(results)
    values: dict[str, dict[int, float]] = {c: {} for c in configs}
    tried: dict[str, set[int]] = {c: set() for c in configs}
    for r in results:
        if r.config not in values:
            continue
        tried[r.config].add(r.seed)
        if r.status == statuses.COMPLETED and r.value is not None and math.isfinite(r.value):
            values[r.config][r.seed] = r.value
    reference = values[baseline]
    decisions, need = {}, []
    for config in (c for c in configs if c != baseline):
        shared = sorted(set(values[config]) & set(reference))
        diffs = [values[config][s] - reference[s] for s in shared]
        decision = judge(diffs, policy, mode)
        if decision.verdict == OPEN and len(tried[config]) >= policy.maximum:
            mean, low, high = interval(diffs, policy)
            decision = Decision(UNDECIDED, len(diffs), mean, low, high)
        if decision.verdict == OPEN:
            look = policy.next_look(len(diffs)) or policy.maximum
            need.append(min(max(look - len(diffs), 1), policy.maximum - len(tried[config])))
        decisions[config] = decision
    used = set().union(*tried.values())
    start = max(max(used) + 1 if used else 0, first_seed)
    return Wave(decisions, {c: len(s) for c, s in tried.items()}, tuple(range(start, start + max(need, default=0))))


def describe(config: str, decision: Decision) -> str:
    """'beta=0.5: better at n=5 (+0.0123, interval [+0.0041, +0.0205])'."""
    if math.isnan(decision.mean):
        return f"{config}: {decision.verdict} at n={decision.n} (no pairs)"
    return (f"{config}: {decision.verdict} at n={decision.n} ({decision.mean:+.4g}, interval "
            f"[{decision.low:+.4g}, {decision.high:+.4g}])")
