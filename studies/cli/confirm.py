"""A search's confirmation (`--confirm K`, `Study(confirm=Confirm(...))`): after the search, its K best
configurations (by mean validation score over their completed trials) and the base config ("baseline") are
retrained on fresh seeds, paired, as one grid: a search's best value is the maximum of many noisy values, so the
report leads with this table instead and shows the gap between the two. With a replication policy (`--seeds auto`)
the seeds come in waves until each comparison with the baseline is decided (studies.cli.waves).

Its trials carry `hpstudy.phase=confirm`; their labels are "#1 lr=0.0123, ..." in the search's order.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable

from hpstudy.schema import statuses
from hpstudy.schema import tags as T
from search_spaces import Grid, Variants, walk
from studies.study import SEED_KEY, Study
from studies.tracking.trial_reads import configs_of
from studies.trial_config import kind

if TYPE_CHECKING:
    from studies.cli.execute import Opened
    from studies.cli.plan import Plan

BASELINE = "baseline"  # the base config, as the confirmation's reference


def best(trials: list[tuple[str, str, float | None, dict[str, str]]], top: int, mode: str) -> list[tuple[str, dict]]:
    """The `top` labels by mean of their completed, finite values (ties by label), each with its params."""
    values: dict[str, list[float]] = {}
    params: dict[str, dict[str, str]] = {}
    for label, status, value, given in trials:
        params.setdefault(label, given)
        if status == statuses.COMPLETED and value is not None and math.isfinite(value):
            values.setdefault(label, []).append(value)
    sign = -1 if mode == "max" else 1
    ranked = sorted(values, key=lambda c: (sign * statistics.fmean(values[c]), c))
    return [(c, params[c]) for c in ranked[:top]]


def sampled_keys(study: Study) -> set[str]:
    """The keys a search's trials sample (a conditional space's every branch), the seed aside."""
    return {key for key, _, _ in walk(study.space)} - {SEED_KEY}


def fresh_start(study: Study) -> int:
    """The first seed the search did not train with."""
    seeds = study.replicates() or (kind(study.base).seed(study.base),)
    return max(seeds) + 1


def confirmation_study(study: Study, chosen: list[tuple[str, dict[str, Any]]],
                       seeds: tuple[int, ...] | None) -> Study:
    """The grid that retrains `chosen` and the base config on `seeds` (None: the waves choose them)."""
    config = kind(study.base)
    arms: list[dict[str, Any]] = [{"name": BASELINE}]
    for rank, (label, given) in enumerate(chosen, 1):
        typed = config.flat(config.apply(study.base, given))  # MLflow's strings, typed as --set types them
        arms.append({"name": f"#{rank} {label}", **{k: typed[k] for k in given}})
    space: dict[str, Any] = {"variant": Variants(tuple(arms))}
    if seeds is not None:
        space[SEED_KEY] = Grid(seeds)
    return replace(study, search="grid", asha=None, num_samples=1, objectives=(), space=space, baseline=BASELINE,
                   confirm=None, tags={**study.tags, T.PHASE: T.CONFIRM})


def run(plan: Plan, opened: Opened, tune: Callable, interrupted: Callable[[], int]) -> int | None:
    """The confirmation after a finished search; an exit code when it was interrupted, else None."""
    from studies.cli import waves
    from studies.tracking.progress import Progress

    study, tracker = opened.study, opened.tracker
    chosen = best(configs_of(tracker.trial_runs(), study.metric, sampled_keys(study)), study.confirm.top, study.mode)
    if not chosen:
        print("\nconfirmation: no configuration of the search completed; nothing to confirm", flush=True)
        return None
    start = fresh_start(study)
    sequential = study.replication is not None
    seeds = None if sequential else tuple(range(start, start + study.confirm.seeds))
    part = confirmation_study(study, chosen, seeds)
    print(f"\nconfirmation: the search's best {len(chosen)} configuration{'s' * (len(chosen) > 1)} and the base "
          f"config, retrained on fresh seeds "
          + ("in waves" if sequential else ", ".join(map(str, seeds))) + ", paired", flush=True)
    if sequential:
        return waves.run(plan, replace(opened, study=part), tune, interrupted, lambda: None, first_seed=start)
    names = [a["name"] for a in part.space["variant"].configs]
    points = {(c, s) for c in names for s in seeds}
    progress = Progress(total=len(points), metric=study.metric, mode=study.mode, done=len(points & waves.ended(opened)))
    tune(part, f"{opened.state.experiment}-confirm", plan.resumed is not None, progress)
    return None if points <= waves.ended(opened) else interrupted()
