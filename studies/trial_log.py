"""Turns trial events into MLflow records and one progress line each: started, per-epoch result, how it ended."""

from __future__ import annotations

from typing import Any

from search_spaces import to_overrides
from studies.study import Study
from studies.tracking import StudyTracker
from trainables.defaults import resolve
from trainables.loop import INIT_REPORT, RESTORED_HISTORY, STOP_DETAIL, STOP_REASON
from trainables.overrides import apply_overrides, flatten

AXES = ("epoch", "step")  # what the trainer reports metrics against: MLflow's step, not metrics themselves


def is_metric(key: str, value: Any) -> bool:
    """A number the trainer reported (`val/acc`, `lr`, `rob/acc/fog`, ...), not an axis or a string/list field.

    The Tune adapter strips Tune's own bookkeeping before results arrive here, so a metric the trainer starts
    reporting is logged without being registered anywhere.
    """
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    return numeric and key not in AXES


def _metrics(result: dict[str, Any]) -> dict[str, float]:
    return {k: v for k, v in result.items() if is_metric(k, v)}


def label(name: str | None, overrides: dict[str, Any]) -> str:
    """A variant's name, or for sampled trials the values that make the configuration, e.g. 'lr=0.0123, ...'."""
    if name:
        return name
    parts = [f"{k.split('.')[-1]}={v:.3g}" if isinstance(v, float) else f"{k.split('.')[-1]}={v}"
             for k, v in sorted(overrides.items()) if k not in ("seed", "num_threads")]
    return ", ".join(parts) or "default"


class TrialLog:
    def __init__(self, study: Study, tracker: StudyTracker) -> None:
        self.study, self.tracker = study, tracker
        self.names: dict[str, str] = {}

    def started(self, trial_id: str, config: dict[str, Any]) -> None:
        name, overrides = to_overrides(config)
        cfg = resolve(apply_overrides(self.study.base, overrides))  # log the values the trial actually uses
        self.names[trial_id] = f"{label(name, overrides)} seed={cfg.seed}"
        self.tracker.trial_started(trial_id, name=label(name, overrides), seed=cfg.seed, params=flatten(cfg))

    def result(self, trial_id: str, result: dict[str, Any]) -> None:
        if "epoch" not in result:
            return
        epoch = int(result["epoch"])
        for earlier in result.get(RESTORED_HISTORY) or []:  # epochs a resumed trial reported before it stopped
            self.tracker.trial_metrics(trial_id, _metrics(earlier), int(earlier["epoch"]), only_if_missing=True)
        self.tracker.trial_metrics(trial_id, _metrics(result), epoch)
        if result.get(INIT_REPORT):
            self.tracker.trial_text(trial_id, result[INIT_REPORT], "init_report.txt")
        value = result.get(self.study.metric)
        shown = f"{self.study.metric}={value:.4f}" if isinstance(value, float) else ""
        print(f"  [{trial_id}] {self.names.get(trial_id, '')}: epoch {epoch}/{self.study.base.epochs} {shown}",
              flush=True)

    def ended(self, trial_id: str, kind: str, last: dict[str, Any], reason: str) -> None:
        epoch = last.get("epoch")
        if kind == "error":
            status = "failed"
        elif last.get(STOP_REASON):  # the trial's own monitor stopped it: diverged, collapsed, oom, ...
            status, reason = last[STOP_REASON], last.get(STOP_DETAIL, "")
        elif epoch is not None and epoch < self.study.base.epochs:
            status, reason = "early_stopped", f"stopped by ASHA at epoch {epoch}"
        else:
            status = "completed"
        self.tracker.trial_ended(trial_id, status, reason, epoch)
        print(f"  [{trial_id}] {self.names.get(trial_id, '')}: {status}" + (f" ({reason})" if reason else ""),
              flush=True)

    def interrupt_open(self) -> None:
        for trial_id in self.tracker.open_trials():
            self.tracker.trial_ended(trial_id, "interrupted", "study interrupted; --resume continues it")
