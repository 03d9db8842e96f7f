"""MLflow bookkeeping of a study: one parent run, one nested run per trial, statuses that say how each ended.

Runs in the driver only (one writer for the SQLite store). Resuming finds existing runs by tag, never duplicates.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from mlflow.entities import Metric, Param, RunStatus, RunTag
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME

ROLE, STUDY, TRIAL_ID, SEED, CONFIG, STATUS, REASON, STOP_EPOCH = (
    "hpstudy.role", "hpstudy.study", "hpstudy.trial_id", "hpstudy.seed", "hpstudy.config_name",
    "hpstudy.status", "hpstudy.stop_reason", "hpstudy.stop_epoch",
)
_MLFLOW_STATUS = {"completed": "FINISHED", "early_stopped": "FINISHED", "failed": "FAILED", "interrupted": "KILLED",
                  # a monitor's labelled stop (trainables.stops): the run ended as designed, its tag says why
                  "diverged": "FINISHED", "collapsed": "FINISHED", "memory_growth": "FINISHED", "oom": "FINISHED"}
_BATCH = 100  # MLflow's log_batch limit on params per call


def default_tracking_uri(runs_dir: Path) -> str:
    """A SQLite store under the user's run folder, absolute: trials run with Ray's temp folder as their cwd."""
    return f"sqlite:///{(runs_dir / 'mlflow.db').resolve()}"


def mlflow_ui_command(tracking_uri: str, runs_dir: Path) -> str:
    if tracking_uri.startswith(("http://", "https://")):
        return f"open {tracking_uri}"
    return (f"mlflow ui --backend-store-uri {tracking_uri} "
            f"--default-artifact-root {(runs_dir / 'mlartifacts').resolve().as_uri()} --host 127.0.0.1")


class StudyTracker:
    """Holds only strings, so it pickles into Ray Tune's experiment state; the client is made on first use."""

    def __init__(self, tracking_uri: str, study: str, artifact_root: Path | None = None) -> None:
        self.tracking_uri, self.study = tracking_uri, study
        self.artifact_root = str(artifact_root.resolve()) if artifact_root else None
        self.parent_run_id: str | None = None
        self._runs: dict[str, str] = {}  # trial id -> run id
        self._client: MlflowClient | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_client": None}

    @property
    def client(self) -> MlflowClient:
        if self._client is None:
            self._client = MlflowClient(tracking_uri=self.tracking_uri)
        return self._client

    def _experiment_id(self) -> str:
        exp = self.client.get_experiment_by_name(self.study)
        if exp is not None:
            return exp.experiment_id
        location = Path(self.artifact_root, self.study).as_uri() if self.artifact_root else None
        return self.client.create_experiment(self.study, artifact_location=location)

    def start_study(self, run_name: str, tags: dict[str, str], params: dict[str, Any]) -> str:
        run = self.client.create_run(self._experiment_id(), run_name=run_name,
                                     tags={ROLE: "study", STUDY: self.study, **tags})
        self.parent_run_id = run.info.run_id
        self._log_params(self.parent_run_id, params)
        return self.parent_run_id

    def resume_study(self, parent_run_id: str) -> None:
        self.parent_run_id = parent_run_id
        self.client.update_run(parent_run_id, status="RUNNING")
        self.client.set_tag(parent_run_id, STATUS, "running")

    def end_study(self, status: str, tags: dict[str, str] | None = None) -> None:
        """status: completed | interrupted | failed (the parent's MLflow status follows)."""
        tags = [RunTag(STATUS, status), *(RunTag(k, v) for k, v in (tags or {}).items())]
        self.client.log_batch(self.parent_run_id, tags=tags)
        self.client.set_terminated(self.parent_run_id, status=_MLFLOW_STATUS[status])

    def _existing_trial_run(self, trial_id: str) -> str | None:
        found = self.client.search_runs(
            [self._experiment_id()],
            filter_string=(f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{self.parent_run_id}' "
                           f"and tags.`{TRIAL_ID}` = '{trial_id}'"),
        )
        return found[0].info.run_id if found else None

    def trial_started(self, trial_id: str, *, name: str, seed: int, params: dict[str, Any]) -> None:
        run_id = self._runs.get(trial_id) or self._existing_trial_run(trial_id)
        if run_id is not None:  # a resumed or retried trial continues its own run
            self.client.update_run(run_id, status="RUNNING")
            self.client.set_tag(run_id, STATUS, "running")
        else:
            tags = {MLFLOW_PARENT_RUN_ID: self.parent_run_id, ROLE: "trial", TRIAL_ID: trial_id, SEED: str(seed),
                    CONFIG: name, STATUS: "running", MLFLOW_RUN_NAME: f"{name} seed={seed} [{trial_id}]"}
            run_id = self.client.create_run(self._experiment_id(), tags=tags).info.run_id
            self._log_params(run_id, params)
        self._runs[trial_id] = run_id

    def trial_metrics(self, trial_id: str, metrics: dict[str, float], epoch: int,
                      only_if_missing: bool = False) -> None:
        """Log one epoch's metrics at step=epoch; `only_if_missing` skips an epoch the run already has."""
        if only_if_missing and epoch in self._logged_epochs(trial_id):
            return
        now = int(time.time() * 1000)
        batch = [Metric(k, float(v), now, epoch) for k, v in metrics.items()]
        self.client.log_batch(self._runs[trial_id], metrics=batch)

    def trial_text(self, trial_id: str, text: str, name: str) -> None:
        """A text artifact of the trial's run (e.g. the warm-start coverage report)."""
        self.client.log_text(self._runs[trial_id], text, name)

    def _logged_epochs(self, trial_id: str) -> set[int]:
        # train/loss: the one metric every epoch reports, with a validation split or without
        return {m.step for m in self.client.get_metric_history(self._runs[trial_id], "train/loss")}

    def trial_ended(self, trial_id: str, status: str, reason: str = "", stop_epoch: int | None = None) -> None:
        run_id = self._runs.get(trial_id)
        if run_id is None:
            return
        tags = [RunTag(STATUS, status), RunTag(REASON, reason[:5000])]
        if stop_epoch is not None:
            tags.append(RunTag(STOP_EPOCH, str(stop_epoch)))
        self.client.log_batch(run_id, tags=tags)
        self.client.set_terminated(run_id, status=_MLFLOW_STATUS[status])

    def trial_outcomes(self) -> list[tuple[str, str]]:
        """(status, reason) of every trial of this study invocation, this session's and a resumed one's."""
        runs = self.client.search_runs(
            [self._experiment_id()],
            filter_string=f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{self.parent_run_id}' and tags.`{ROLE}` = 'trial'",
            max_results=50_000,
        )
        return [(r.data.tags.get(STATUS) or "running", r.data.tags.get(REASON) or "") for r in runs]

    def open_trials(self) -> list[str]:
        """Trial ids whose runs are still RUNNING (to be marked interrupted when the study stops early)."""
        running = RunStatus.to_string(RunStatus.RUNNING)
        return [t for t, r in self._runs.items() if self.client.get_run(r).info.status == running]

    def _log_params(self, run_id: str, params: dict[str, Any]) -> None:
        items = [Param(k, str(v)) for k, v in params.items()]
        for i in range(0, len(items), _BATCH):
            self.client.log_batch(run_id, params=items[i:i + _BATCH])
