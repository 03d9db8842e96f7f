"""Sequential replication, run: a grid's variants and its baseline trained in waves of seeds, each wave its own
Tune experiment under the study's parent run, until every comparison with the baseline has ended (better, worse,
equivalent within δ, or undecided at the maximum; `studies.cli.wave_plan`). The decisions go to the terminal, the
parent run (`hpstudy.decisions`, JSON) and each trial run (`hpstudy.decision`, `hpstudy.decision_n`).

A resumed study rereads its trials from MLflow and continues the wave its state names: the decisions are a function
of the trials, so a resume reaches the ones an uninterrupted run would.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Callable

from analysis.sequential import OPEN
from hpstudy.schema import statuses
from hpstudy.schema import tags as T
from search_spaces import Grid, Variants
from studies.cli.state import save_state
from studies.cli.wave_plan import Result, Wave, describe, plan_wave
from studies.study import SEED_KEY, Study
from studies.tracking.trial_reads import trial_rows

if TYPE_CHECKING:
    from studies.cli.execute import Opened
    from studies.cli.plan import Plan

def _axis(study: Study) -> tuple[str, Variants]:
    """The space key and Variants of the study's configurations: a replicated study has that one grid axis (Study)."""
    return next((k, v) for k, v in study.space.items() if isinstance(v, Variants))


def variants(study: Study) -> Variants:
    return _axis(study)[1]


def wave_study(study: Study, configs: list[str], seeds: tuple[int, ...]) -> Study:
    """`study` restricted to `configs` (the baseline included) and trained on `seeds`."""
    key, axis = _axis(study)
    chosen = Variants(tuple(c for c in axis.configs if c["name"] in configs))
    return replace(study, space={**study.space, key: chosen, SEED_KEY: Grid(seeds)}, replication=None)


def results(opened: Opened) -> list[Result]:
    rows = trial_rows(opened.tracker.trial_runs(), opened.study.metric)
    return [Result(r.config, int(r.seed), r.status, r.value) for r in rows if r.seed.lstrip("-").isdigit()]


def run(plan: Plan, opened: Opened, tune: Callable, interrupted: Callable[[], int], close: Callable[[], int | None],
        first_seed: int = 0) -> int | None:
    """The waves, then `close()`; `tune(study, name, resume, progress)` runs one Tune experiment (`resume`: continue
    it if Tune saved it). Seeds from `first_seed` on (a confirmation's: those its search did not train)."""
    from studies.tracking.progress import Progress

    study, policy, state = opened.study, opened.study.replication, opened.state
    configs = [c["name"] for c in variants(study).configs]
    opened.tracker.tag_decisions({T.REPLICATION: ", ".join(f"{k}={v}" for k, v in asdict(policy).items())}, {})
    # a resumed study first finishes the wave it was interrupted in, as it was planned
    pending = (list(state.wave_configs), tuple(state.wave_seeds)) if plan.resumed and state.wave_seeds else None
    while True:
        if pending is None:
            wave = plan_wave(results(opened), configs, study.baseline, policy, study.mode, first_seed)
            if not wave.seeds:
                break
            pending = ([study.baseline, *wave.open], wave.seeds)
            state = replace(state, wave=state.wave + 1, wave_configs=pending[0], wave_seeds=list(pending[1]))
            save_state(plan.state_dir, state)
            _announce(state.wave, wave)
        else:
            print(f"\nwave {state.wave}: continuing seeds {', '.join(map(str, pending[1]))} for "
                  f"{', '.join(pending[0])}", flush=True)
        points = {(c, s) for c in pending[0] for s in pending[1]}
        progress = Progress(total=len(points), metric=study.metric, mode=study.mode, done=len(points & ended(opened)))
        tune(wave_study(study, *pending), f"{state.experiment}-wave{state.wave}", plan.resumed is not None, progress)
        if not points <= ended(opened):
            return interrupted()
        pending = None
    _record(opened, wave)
    return close()


def ended(opened: Opened) -> set[tuple[str, int]]:
    """The (configuration, seed) points whose trials have ended."""
    return {(r.config, r.seed) for r in results(opened) if r.status not in (statuses.RUNNING, statuses.INTERRUPTED)}


def _announce(number: int, wave: Wave) -> None:
    ended = [describe(c, d) for c, d in wave.decisions.items() if d.verdict != OPEN]
    seeds, seeds_text = wave.seeds, ", ".join(map(str, wave.seeds))
    print(f"\nwave {number}: seed{'s' if len(seeds) > 1 else ''} {seeds_text} for {', '.join(wave.open)} and the "
          f"baseline" + (f"; decided so far: {'; '.join(ended)}" if ended else ""), flush=True)


def _record(opened: Opened, wave: Wave) -> None:
    """The decisions, on the terminal and in MLflow."""
    print("\ndecisions against the baseline " + f"({opened.study.baseline}):", flush=True)
    for config, decision in wave.decisions.items():
        print("  " + describe(config, decision), flush=True)
    ends = {c: {"verdict": d.verdict, "n": d.n, "mean": d.mean, "low": d.low, "high": d.high}
            for c, d in wave.decisions.items()}
    per_config = {c: {T.DECISION: d.verdict, T.DECISION_N: str(d.n)} for c, d in wave.decisions.items()}
    opened.tracker.tag_decisions({T.DECISIONS: json.dumps(ends)}, per_config)
