"""Turns trial events into MLflow records and the terminal's progress line: started, per-epoch result, how it
ended. Per-epoch lines only with `verbose`; a trial that failed or that a monitor stopped always gets its line.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from hpstudy.schema import params, statuses
from hpstudy.schema import tags as T
from search_spaces import to_overrides
from studies import trial_config
from studies.study import Study
from studies.tracking.dataset_input import of_config
from studies.tracking.logged_config import config_dict, trial_params
from studies.tracking.progress import Progress
from studies.tracking.tracker import StudyTracker
from trainables.loop import CONFIG_CHANGE, INIT_REPORT, STOP_DETAIL, STOP_REASON
from trainables.watch.stops import RETRY_CHANGES

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
             for k, v in sorted(overrides.items()) if k not in params.RUN_SPECIFIC]
    return ", ".join(parts) or "default"


# Ended as designed, and the progress line counts it: no line of its own unless verbose.
_QUIET_ENDS = (statuses.COMPLETED, statuses.EARLY_STOPPED)


class TrialLog:
    def __init__(self, study: Study, tracker: StudyTracker, *, progress: Progress | None = None,
                 verbose: bool = False, checkpointed: Callable[[str], dict[str, Any] | None] | None = None) -> None:
        """`checkpointed(trial_id)`: the trial's last checkpoint's {'epoch', 'history', 'stop'}, or None."""
        self.study, self.tracker = study, tracker
        self.checkpointed = checkpointed
        self.progress, self.verbose = progress, verbose
        self.names: dict[str, str] = {}
        self.configs: dict[str, Any] = {}  # trial id -> the config it trains with
        self.held: dict[str, tuple[str, ...]] = {}  # trial id -> params an OOM retry may change, not logged yet
        self.kind = trial_config.kind(study.base)

    def _print(self, text: str) -> None:
        if self.progress is not None:
            self.progress.print(text)
        else:
            print(text, flush=True)

    def started(self, trial_id: str, config: dict[str, Any]) -> None:
        name, overrides = to_overrides(config)
        kind = self.kind
        cfg = kind.resolved(self.study.base, overrides)  # log the values the trial actually uses
        self.configs[trial_id] = cfg
        seed = kind.seed(cfg)
        self.names[trial_id] = f"{label(name, overrides)} seed={seed}"
        # hpstudy's trainer logs the values that apply (logged_config); a function's config is all its own
        logged = dict(cfg) if kind.own else trial_params(cfg)
        if not kind.own and cfg.monitor.oom_retry:  # logged with the first report: a first-epoch retry changes them
            self.held[trial_id] = tuple(k for k in RETRY_CHANGES if logged.pop(k, None) is not None)
        phase = self.study.tags.get(T.PHASE)  # a confirmation's trials say so (studies.cli.confirm)
        data = of_config(cfg, kind.own)
        continued = self.tracker.trial_started(trial_id, name=label(name, overrides), seed=seed, params=logged,
                                               config=dict(cfg) if kind.own else config_dict(cfg),
                                               tags={T.PHASE: phase} if phase else None,
                                               dataset=data.input() if data is not None else None)
        if continued:  # its checkpoint may hold epochs that never reached the run: logged now, before the next ones
            self._from_checkpoint(trial_id, {})
        if self.progress is not None:
            self.progress.started(trial_id)

    def result(self, trial_id: str, result: dict[str, Any]) -> None:
        if "epoch" not in result:
            return
        epoch = int(result["epoch"])
        if result.get(CONFIG_CHANGE) and trial_id in self.configs:
            changed = json.loads(result[CONFIG_CHANGE])
            self.configs[trial_id] = cfg = self.kind.apply(self.configs[trial_id], changed)
            self.tracker.trial_config_changed(trial_id, changed, config_dict(cfg))
        self._log_held(trial_id)
        self.tracker.trial_metrics(trial_id, _metrics(result), epoch)  # once per epoch, whatever is re-sent
        if result.get(INIT_REPORT):
            self.tracker.trial_text(trial_id, result[INIT_REPORT], params.INIT_REPORT)
        value = result.get(self.study.metric)
        if self.progress is not None:
            self.progress.result(trial_id, value, self.names.get(trial_id, ""))
        if self.verbose:
            shown = f"{self.study.metric}={value:.4f}" if isinstance(value, float) else ""
            name = self.names.get(trial_id, "")
            epochs = self.kind.epochs(self.configs[trial_id]) if trial_id in self.configs else None
            self._print(f"  [{trial_id}] {name}: epoch {epoch}{f'/{epochs}' if epochs else ''} {shown}")

    def _log_held(self, trial_id: str) -> None:
        """The held params, as the trial trains them now (after a retry's change, if there was one)."""
        keys = self.held.pop(trial_id, ())
        if keys:
            flat = trial_params(self.configs[trial_id])
            self.tracker.trial_params(trial_id, {k: flat[k] for k in keys if k in flat})

    def _from_checkpoint(self, trial_id: str, last: dict[str, Any]) -> dict[str, Any]:
        """Log the epochs the trial's checkpoint holds that never reached the tracker (Ctrl-C between a checkpoint
        and its report), and return its true last report when that is later than the last one Tune saw."""
        saved = self.checkpointed(trial_id) if self.checkpointed is not None else None
        if not saved or not saved.get("history"):
            return last
        for earlier in saved["history"]:
            self.tracker.trial_metrics(trial_id, _metrics(earlier), int(earlier["epoch"]))
        if int(saved["epoch"]) <= int(last.get("epoch") or 0):
            return last
        final = dict(saved["history"][-1])
        if saved.get("stop"):
            final[STOP_REASON], final[STOP_DETAIL] = saved["stop"]
        return final

    def ended(self, trial_id: str, kind: str, last: dict[str, Any], reason: str) -> None:
        self._log_held(trial_id)  # a trial that never reported
        last = self._from_checkpoint(trial_id, last)
        epoch = last.get("epoch")
        if kind == "error":
            status = statuses.FAILED
        elif last.get(STOP_REASON):  # the trial's own monitor stopped it: diverged, collapsed, oom, ...
            status, reason = last[STOP_REASON], last.get(STOP_DETAIL, "")
        elif epoch is not None and epoch < (self.kind.epochs(self.study.base) or epoch):
            status = statuses.EARLY_STOPPED
            reason = f"multi-objective ASHA {reason}" if reason else f"stopped by ASHA at epoch {epoch}"
        else:
            status = statuses.COMPLETED
        self.tracker.trial_ended(trial_id, status, reason, epoch)
        if self.verbose or status not in _QUIET_ENDS:
            self._print(f"  [{trial_id}] {self.names.get(trial_id, '')}: {status}" + (f" ({reason})" if reason else ""))
        if self.progress is not None:
            self.progress.ended(trial_id)
        for held in (self.names, self.configs):  # nothing kept per trial once it ended: a study may have 10,000
            held.pop(trial_id, None)

    def retried(self, trial_id: str, last: dict[str, Any], reason: str) -> None:
        """The trial's process died (or it raised) and Tune restarts it from its last checkpoint."""
        epoch = last.get("epoch")
        line = f"retried after epoch {epoch}: {reason}" if epoch is not None else f"retried before its first epoch: {reason}"
        self.tracker.trial_retried(trial_id, line)
        self._print(f"  [{trial_id}] {self.names.get(trial_id, '')}: {line}")

    def interrupt_open(self) -> None:
        self.tracker.interrupt_open()
