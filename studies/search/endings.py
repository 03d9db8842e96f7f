"""How a finished trial is told to the search (Optuna's COMPLETE, PRUNED or FAIL), from its last result: a pure
function of the result, so the rule is tested without Ray or Optuna; `studies.tune.optuna_search` applies it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

COMPLETE, PRUNED, FAIL = "COMPLETE", "PRUNED", "FAIL"  # optuna.trial.TrialState's names
EPOCH_KEY = "epoch"  # the loop's count of epochs completed (ASHA's time axis)
# trainables.loop's STOP_REASON and STOP_DETAIL, retyped: importing the loop pulls in torch (~4 s); a test checks
# they agree. Their home should be `schema`, with the other keys writers and readers share.
STOP_REASON, STOP_DETAIL = "stop/reason", "stop/detail"

# A labelled stop (trainables.watch.stops.REASONS) -> how the search hears of it; only a patience stop is a score.
STOP_STATES: Mapping[str, str] = {
    # PRUNED, not FAIL: TPE drops FAIL trials, but puts PRUNED ones in its "bad" density, so it learns to avoid
    # where training blows up. Its objective at the stop epoch is reported as NaN, which ranks it behind every
    # trial that got as far (Optuna's _get_pruned_trial_score).
    "diverged": PRUNED,
    "collapsed": PRUNED,
    # The machine's limit, not the objective's: nothing the sampler should learn from.
    "oom": FAIL,
    "memory_growth": FAIL,
    # Patience ran out: the score stopped improving, so the last one is as final as a full run's.
    "early_stopped": COMPLETE,
}
UNKNOWN_STOP = FAIL  # a reason missing from the table


@dataclass(frozen=True)
class Ending:
    state: str  # COMPLETE | PRUNED | FAIL
    values: tuple[float, ...] | None  # the objectives, for COMPLETE only (Optuna refuses values otherwise)
    reason: str  # why, as a user attr: "complete", "pruned", a stop reason, "error", ...
    epoch: int | None  # epochs the trial completed, as far as its result says


def ending(result: Mapping[str, Any] | None, *, error: bool, objectives: Sequence[str], max_epochs: int,
           stop_states: Mapping[str, str] = STOP_STATES) -> Ending:
    """COMPLETE only for a trial that reached `max_epochs` (or stopped with a reason the table calls complete)
    with finite objectives; PRUNED for one stopped early by the scheduler; a labelled stop as `stop_states` says;
    FAIL for an error or a result that does not say how far the trial got."""
    if error:
        return Ending(FAIL, None, "error", None)
    if not result:
        return Ending(FAIL, None, "no_result", None)  # removed before it ran: says nothing about its config
    epoch = result.get(EPOCH_KEY)
    epoch = int(epoch) if isinstance(epoch, (int, float)) and math.isfinite(epoch) else None
    reason = result.get(STOP_REASON)
    if reason:
        state = stop_states.get(str(reason), UNKNOWN_STOP)
        return _scored(result, objectives, str(reason), epoch) if state == COMPLETE else Ending(state, None,
                                                                                               str(reason), epoch)
    if epoch is None:
        return Ending(FAIL, None, f"no_{EPOCH_KEY}", None)
    if epoch < max_epochs:
        return Ending(PRUNED, None, "pruned", epoch)
    return _scored(result, objectives, "complete", epoch)


def _scored(result: Mapping[str, Any], objectives: Sequence[str], reason: str, epoch: int | None) -> Ending:
    values = tuple(objective_values(result, objectives) or ())
    if len(values) != len(objectives) or not all(math.isfinite(v) for v in values):
        return Ending(FAIL, None, "objective_not_finite", epoch)  # Optuna refuses NaN for a COMPLETE trial
    return Ending(COMPLETE, values, reason, epoch)


def objective_values(result: Mapping[str, Any], objectives: Sequence[str]) -> list[float] | None:
    """The result's objectives as floats, or None when one is missing or not a number."""
    values = [result.get(name) for name in objectives]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return None
    return [float(v) for v in values]


def is_told_as_score(result: Mapping[str, Any], stop_states: Mapping[str, str] = STOP_STATES) -> bool:
    """False for a result whose labelled stop is not COMPLETE: its objective (a diverged model's chance accuracy,
    say) must not reach the search as an intermediate value."""
    reason = result.get(STOP_REASON)
    return not reason or stop_states.get(str(reason), UNKNOWN_STOP) == COMPLETE
