"""Tune's trial events, forwarded to plain-Python handlers (MLflow tracking, progress lines), and the state Tune
keeps for them across `--resume`: the ASHA scheduler's rungs, which Tune itself never restores."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

from ray import tune
from ray.tune import result as tune_result
from ray.tune.schedulers import TrialScheduler

from studies.tune.trial_errors import error_reason, trial_error

# Keys Tune (and Train's report callback) add to every result; everything else is what our trainer reported.
_TUNE_KEYS = frozenset((
    *tune_result.AUTO_RESULT_KEYS, *tune_result.DEFAULT_EXPERIMENT_INFO_KEYS, *tune_result.DEBUG_METRICS,
    tune_result.DONE, tune_result.SHOULD_CHECKPOINT, tune_result.RESULT_DUPLICATE, tune_result.TRIAL_INFO,
    tune_result.TIMESTEPS_THIS_ITER, tune_result.EPISODES_THIS_ITER,
))


def trainer_result(result: dict[str, Any]) -> dict[str, Any]:
    """A Tune result without Tune's bookkeeping (`time_this_iter_s`, `config`, `done`, ...): the trainer's report."""
    config_key = f"{tune_result.CONFIG_PREFIX}/"  # a flattened result's config entries
    return {k: v for k, v in result.items() if k not in _TUNE_KEYS and not k.startswith(config_key)}


class TrialEvents(tune.Callback):
    """Forwards Tune's trial events to plain-Python handlers (MLflow tracking, progress lines)."""

    def __init__(self, on_start: Callable, on_result: Callable, on_end: Callable,
                 on_retry: Callable | None = None, on_restore: Callable | None = None,
                 on_snapshot: Callable | None = None) -> None:
        self.on_start, self.on_result, self.on_end, self.on_retry = on_start, on_result, on_end, on_retry
        self.on_restore = on_restore  # a resumed experiment's saved trial ids, before its trials run again
        # Before Tune saves the experiment (its trials' statuses): the tracker writes what it queued, so a trial the
        # saved state records as ended is whole in MLflow (Tune syncs the state to storage after this returns).
        self.on_snapshot = on_snapshot
        self.stop_reasons: dict[str, str] = {}  # trial id -> why the scheduler stopped it (run_tuner sets it)
        # The ASHA scheduler (run_tuner sets it): Tune saves and restores its callbacks' state with the experiment,
        # but never a scheduler's, so the rungs ride here, through the scheduler's own save/restore. Both pickle into
        # tuner.pkl together, so after Tuner.restore this is still the scheduler Tune runs.
        self.scheduler: TrialScheduler | None = None

    def get_state(self) -> dict[str, Any] | None:
        if self.on_snapshot is not None:
            self.on_snapshot()
        if self.scheduler is None:
            return None  # no state: Tune writes no callback file
        with tempfile.TemporaryDirectory() as tmp:
            self.scheduler.save(os.path.join(tmp, "scheduler.pkl"))
            with open(os.path.join(tmp, "scheduler.pkl"), "rb") as f:
                return {"scheduler": f.read()}

    def set_state(self, state: dict[str, Any]) -> None:
        if self.scheduler is None or "scheduler" not in state:
            return
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "scheduler.pkl"), "wb") as f:
                f.write(state["scheduler"])
            self.scheduler.restore(os.path.join(tmp, "scheduler.pkl"))

    def on_trial_start(self, iteration, trials, trial, **info):
        self.on_start(trial.trial_id, trial.config)

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self.on_result(trial.trial_id, trainer_result(result))

    def on_trial_complete(self, iteration, trials, trial, **info):
        why = self.stop_reasons.get(trial.trial_id, "")  # a multi-objective scheduler's own words, when it stopped it
        self.on_end(trial.trial_id, "complete", trainer_result(trial.last_result or {}), why)

    def on_trial_recover(self, iteration, trials, trial, **info):  # FailureConfig restarts it from its checkpoint
        if self.on_retry is not None:
            self.on_retry(trial.trial_id, trainer_result(trial.last_result or {}), error_reason(trial_error(trial)))

    def on_trial_error(self, iteration, trials, trial, **info):
        self.on_end(trial.trial_id, "error", trainer_result(trial.last_result or {}), error_reason(trial_error(trial)))
