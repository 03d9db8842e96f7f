"""MO-ASHA as a Ray Tune `TrialScheduler`: stops trials at rungs by `studies.search.mo_rungs`' multi-objective rule and
keeps, for logging, why each trial it stopped was stopped. The rule is pure (mo_rungs); this file is its Ray side.

Configure Tune with `TuneConfig(metric=None, mode=None, scheduler=MOASHAScheduler(...))`: the scheduler ranks by
its own objectives, so it needs no single metric. A TuneConfig metric is accepted only if it is one of the
objectives with the same mode (for `ResultGrid.get_best_result()` or a single-objective searcher); any other
metric or mode raises, since it would say the study optimises something the scheduler does not.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Sequence
from typing import Any

from ray.tune.experiment import Trial
from ray.tune.schedulers import FIFOScheduler, TrialScheduler

from studies.search.mo_rungs import Objective, Rungs, Verdict


class MOASHAScheduler(FIFOScheduler):
    """Asynchronous successive halving on several objectives: at each rung (grace_period·η^k below max_t) a trial
    continues iff it is in the top ⌈n/η⌉ of the n recorded there so far, ordered by non-dominated front and an
    ε-net inside a front (`studies.search.mo_rungs.rung_order`); at `max_t` every trial stops.

    A result without `time_attr` is not judged. A result missing an objective (or holding None) is recorded at the
    rung as worst (a non-finite value: it ranks after every complete record) but the trial continues: the metric
    may simply not be computed at that epoch, and a record that ranks last only helps the trials after it. A
    reported NaN or inf is a value: it ranks last too, and the trial is judged like any other.

    `stopped[trial_id]` says where and why, e.g. "stopped at epoch 3: rank 3 of 4 at the epoch 3 rung (front 2;
    the top 2 continue)"; ranks and fronts there count from 1 (front 1 = non-dominated at the rung).

    Resume: `Tuner.restore` rebuilds this scheduler from the `tuner.pkl` written when the Tuner was made (empty
    rungs), and Tune (2.x) never calls a scheduler's `save`/`restore`. It does save and restore its callbacks' state
    with the experiment, so `studies.tune.tuner.TrialEvents` carries `get_state()` and gives it back through `set_state`:
    after a resume the rungs hold every record made before it (Ray's own ASHA starts them empty).
    """

    def __init__(self, *, objectives: Sequence[tuple[str, str]], max_t: float, time_attr: str = "epoch",
                 grace_period: float = 1, reduction_factor: float = 3) -> None:
        super().__init__()
        self.objectives = tuple(Objective(name, mode) for name, mode in objectives)
        self.rungs = Rungs(objectives=self.objectives, grace_period=grace_period, max_t=max_t,
                           reduction_factor=reduction_factor)
        self.time_attr = time_attr  # our epoch counter: Tune's training_iteration keeps counting across retries
        self.max_t = max_t
        self.stopped: dict[str, str] = {}  # trial_id -> why it was stopped at a rung

    def set_search_properties(self, metric: str | None, mode: str | None, **spec) -> bool:
        """Tune passes TuneConfig's metric and mode (None, None when unset): accept unset, or one objective."""
        if metric is None and mode is None:
            return True
        match = [o for o in self.objectives if o.name == metric]
        if not match or (mode is not None and mode != match[0].mode):
            pairs = [(o.name, o.mode) for o in self.objectives]
            raise ValueError(f"MOASHAScheduler ranks by its objectives {pairs}; TuneConfig names ({metric=}, "
                             f"{mode=}). Leave TuneConfig's metric and mode None, or name one of the objectives.")
        return True

    def on_trial_result(self, tune_controller, trial: Trial, result: dict[str, Any]) -> str:
        if self.time_attr not in result:
            return TrialScheduler.CONTINUE
        time = result[self.time_attr]
        if time >= self.max_t:
            return TrialScheduler.STOP
        values, missing = self._values(result)
        verdict = self.rungs.judge(trial.trial_id, time, values)
        if verdict is None or verdict.promote or missing:
            return TrialScheduler.CONTINUE
        self.stopped[trial.trial_id] = self._reason(time, verdict)
        return TrialScheduler.STOP

    def on_trial_complete(self, tune_controller, trial: Trial, result: dict[str, Any]) -> None:
        """A trial that ended by itself is still recorded at the rung it reached (a no-op if already recorded)."""
        if result and self.time_attr in result and result[self.time_attr] < self.max_t:
            self.rungs.judge(trial.trial_id, result[self.time_attr], self._values(result)[0])

    def _values(self, result: dict[str, Any]) -> tuple[list[float], list[str]]:
        """The objectives' values in `result` (NaN for a missing one) and the names of those missing."""
        missing = [o.name for o in self.objectives if result.get(o.name) is None]
        return [math.nan if o.name in missing else float(result[o.name]) for o in self.objectives], missing

    def _reason(self, time: float, v: Verdict) -> str:
        front = f"front {v.front + 1}" if v.front is not None else "a non-finite objective ranks last"
        return (f"stopped at {self.time_attr} {time:g}: rank {v.position + 1} of {v.n} at the {self.time_attr} "
                f"{v.rung:g} rung ({front}; the top {v.keep} continue)")

    def debug_string(self) -> str:
        rungs = ", ".join(f"{self.time_attr} {level:g}: {len(rec)}" for level, rec in self.rungs.recorded.items())
        names = ", ".join(f"{o.name} ({o.mode})" for o in self.objectives)
        return f"Using MO-ASHA on {names}: {len(self.stopped)} stopped; recorded per rung {rungs}"

    def get_state(self) -> dict[str, Any]:
        """What a resume needs: each rung's records and why each stopped trial was stopped (plain dicts)."""
        return {"recorded": {level: dict(records) for level, records in self.rungs.recorded.items()},
                "stopped": dict(self.stopped)}

    def set_state(self, state: dict[str, Any]) -> None:
        """Back into the same dicts (TrialEvents.stop_reasons is `stopped` itself); rungs the state does not know
        (another max_t or η) are refused rather than silently mixed."""
        unknown = set(state["recorded"]) - set(self.rungs.recorded)
        if unknown:
            raise ValueError(f"MO-ASHA state has rungs {sorted(unknown)}, this scheduler {sorted(self.rungs.recorded)}")
        for level, records in state["recorded"].items():
            self.rungs.recorded[level].clear()
            self.rungs.recorded[level].update(records)
        self.stopped.clear()
        self.stopped.update(state["stopped"])

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as f:
            pickle.dump(self.get_state(), f)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as f:
            self.set_state(pickle.load(f))
