"""What the end of a study reads from its trial runs (as `StudyTracker.trial_runs` found them, once): each trial's
final value of the metric, each configuration's params, each trial's status and reason. Functions of the runs,
no store: a trial run's status tag absent reads as running."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from hpstudy.schema import statuses
from hpstudy.schema import tags as T
from studies.tracking.summary import TrialRow

if TYPE_CHECKING:  # a dry run imports no MLflow
    from mlflow.entities import Run


def _status(run: Run) -> str:
    return run.data.tags.get(T.STATUS) or statuses.RUNNING


def trial_rows(runs: Iterable[Run], metric: str) -> list[TrialRow]:
    """Each trial, its final value of `metric`."""
    return [TrialRow(r.info.run_id, r.data.tags.get(T.TRIAL_ID, ""), r.data.tags.get(T.CONFIG, ""),
                     r.data.tags.get(T.SEED, ""), _status(r), r.data.metrics.get(metric)) for r in runs]


def configs_of(runs: Iterable[Run], metric: str, keys: set[str],
               phase: str = "") -> list[tuple[str, str, float | None, dict[str, str]]]:
    """(label, status, final `metric`, its params among `keys`) of each trial run in `phase` ("": the study's own
    trials, not a confirmation's)."""
    return [(r.data.tags.get(T.CONFIG, ""), _status(r), r.data.metrics.get(metric),
             {k: v for k, v in r.data.params.items() if k in keys})
            for r in runs if r.data.tags.get(T.PHASE, "") == phase]


def trial_outcomes(runs: Iterable[Run]) -> list[tuple[str, str]]:
    """(status, reason) of each trial."""
    return [(_status(r), r.data.tags.get(T.STOP_REASON) or "") for r in runs]
