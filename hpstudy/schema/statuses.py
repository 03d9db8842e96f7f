"""How a trial or a study ended (the hpstudy.status tag), and the MLflow run status each one maps to."""

from __future__ import annotations

RUNNING = "running"
COMPLETED = "completed"  # trained every epoch
EARLY_STOPPED = "early_stopped"  # ASHA (or the patience monitor) stopped it: a result, at an earlier epoch
FAILED = "failed"  # raised; the reason is its stop_reason tag
INTERRUPTED = "interrupted"  # the study was stopped (Ctrl-C) while it ran; --resume continues it
# A monitor's labelled stop (trainables.watch.stops): the run ended as designed, its stop_reason says why.
MONITOR_STOPS = ("diverged", "collapsed", "memory_growth", "oom")

TRIAL_STATUSES = (RUNNING, COMPLETED, EARLY_STOPPED, *MONITOR_STOPS, FAILED, INTERRUPTED)
RESULTS = frozenset({COMPLETED, EARLY_STOPPED, *MONITOR_STOPS})  # a trial that ended with a result
STUDY_STATUSES = (RUNNING, COMPLETED, FAILED, INTERRUPTED)  # failed: no trial gave a result, or the driver raised

# hpstudy status -> MLflow RunStatus name: every result is FINISHED, its tag tells which kind
_TO_MLFLOW = {RUNNING: "RUNNING", FAILED: "FAILED", INTERRUPTED: "KILLED", **{s: "FINISHED" for s in RESULTS}}
# Only for a run without the hpstudy.status tag (killed before it could be written)
_FROM_MLFLOW = {"FINISHED": COMPLETED, "FAILED": FAILED, "KILLED": INTERRUPTED, "RUNNING": RUNNING}


def mlflow_status(status: str) -> str:
    """The MLflow run status of an hpstudy status, e.g. 'early_stopped' -> 'FINISHED'."""
    if status not in _TO_MLFLOW:
        raise KeyError(f"unknown hpstudy status {status!r}; valid: {', '.join(TRIAL_STATUSES)}")
    return _TO_MLFLOW[status]


def from_mlflow(run_status: str) -> str | None:
    """The hpstudy status an MLflow run status stands for (None for SCHEDULED and the like)."""
    return _FROM_MLFLOW.get(run_status)
