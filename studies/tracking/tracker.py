"""MLflow bookkeeping of a study: one parent run, one nested run per trial, statuses that say how each ended.

Runs in the driver only (one writer for the SQLite store). Resuming finds existing runs by tag, never duplicates.
The keys it writes are hpstudy.schema.tags / hpstudy.schema.params; what the parent run shows at the end is
studies.tracking.summary, from what studies.tracking.trial_reads reads of the trial runs; the open runs of trials a
resumed Tune lost are studies.tracking.lost_runs'.
"""

from __future__ import annotations

import logging
import tempfile
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

from mlflow.entities import DatasetInput, Metric, Run, RunStatus
from mlflow.tracking import MlflowClient

from hpstudy.schema import params as P
from hpstudy.schema import statuses
from hpstudy.schema import tags as T
from studies.tracking import writes
from studies.tracking.logged_config import config_dict
from studies.tracking.lost_runs import LostRuns
from studies.tracking.summary import Summary, summarize
from studies.tracking.trial_reads import trial_rows
from studies.tracking.writer import THREAD, Writer, history_csv, make_writer
from studies.tracking.writes import tags_of

# A trial's epochs that come within this many seconds of its last write are held, and written with the next write
# (its end, a later epoch, a flush): a closed-form or tabular trial's epochs then cost one write, not one each. A
# training trial's epochs are written as they come; Tune's snapshot (flush) writes held ones within its period.
_HOLD_S = 1.0
# MLflow's schema set-up on a new store ("Creating initial MLflow database tables...") is not news to a user.
_QUIET_LOGGERS = ("mlflow.store.db.utils", "alembic")


class StudyTracker:
    """Pickles into Ray Tune's experiment state (its client, writer and pending runs left behind); the client is made
    on first use.

    A trial's start, its epochs and its end are queued to one writer (studies.tracking.writer), written in order
    while Tune's loop goes on: at 10,000 short trials those writes were most of the driver's time. `writer_kind`: a
    thread of the driver, or a process of its own ("process", what a study of 100 trials or more uses: the writes'
    Python then runs beside Tune's loop, not on its GIL). Everything else (the parent run, every read) first waits for
    the queued writes, and so does Tune's snapshot of the experiment (`flush`, from studies.tune.events): a trial Tune's
    saved state records as ended is in MLflow whole. A write that failed (a full disk) is raised at the next trial
    event or flush, once. A driver killed outright loses at most the queued writes; its trials' checkpoints hold
    those epochs, and a resumed trial logs them first (studies.tracking.trial_log).
    """

    def __init__(self, tracking_uri: str, study: str, artifact_root: Path | None = None,
                 writer_kind: str = THREAD) -> None:
        if not study:  # a Study from get_study() directly: build_study names it after its file
            raise ValueError("StudyTracker needs the study's name (studies.assembly.assemble.build_study sets it)")
        self.tracking_uri, self.study = tracking_uri, study
        self.writer_kind = writer_kind  # the writer made on the first queued write (studies.tracking.writer)
        self.artifact_root = str(artifact_root.resolve()) if artifact_root else None
        self.parent_run_id: str | None = None
        self._runs: dict[str, str | Future[str]] = {}  # trial id -> run id (a Future while its creation is queued)
        self._epochs: dict[str, set[int]] = {}  # trial id -> epochs its run holds (read from the store once)
        self._retries: dict[str, list[str]] = {}  # trial id -> its retries.txt lines
        # trial id -> {epoch: metrics} this session logged to a run it created: its history.csv without reading back
        self._rows: dict[str, dict[int, dict[str, float]]] = {}
        self._held: dict[str, list[Metric]] = {}  # trial id -> its epochs not yet queued (_HOLD_S)
        self._written: dict[str, float] = {}  # trial id -> when its last write was queued (time.monotonic)
        # trial id -> run id of an earlier session's trials (a resumed study; read once); {}: a study started here
        self._earlier: dict[str, str] | None = {}
        self._experiment_id: str | None = None  # the study's experiment, once a trial asked for it
        self._lost = LostRuns()  # runs of trials the resumed Tune does not know (studies.tracking.lost_runs)
        self._client: MlflowClient | None = None
        self._writer: Writer | None = None  # made on first use, as the client

    def __getstate__(self) -> dict[str, Any]:
        self._send_held()
        runs = {t: self.run_id(t) for t in self._runs}
        return {**self.__dict__, "_runs": runs, "_client": None, "_writer": None, "_held": {}, "_written": {}}

    def _store(self) -> MlflowClient:
        if self._client is None:
            for name in _QUIET_LOGGERS:
                logging.getLogger(name).setLevel(logging.WARNING)
            self._client = MlflowClient(tracking_uri=self.tracking_uri)
        return self._client

    @property
    def client(self) -> MlflowClient:
        """The client, once every queued write is done: what a read or an ordered write uses."""
        self.flush()
        return self._store()

    def _defer(self, fn: Callable[..., Any], *args: Any, keep: bool = False) -> Future:
        """`fn(client, *args)` (a function of studies.tracking.writes) on the writer, after every write queued
        before."""
        if self._writer is None:
            self._writer = make_writer(self.writer_kind, self.tracking_uri, self._store)
        return self._writer.defer(fn, *args, keep=keep)

    def flush(self) -> None:
        """Wait for the queued writes; raise the first one that failed (once)."""
        self._send_held()
        if self._writer is None:
            return
        try:
            self._writer.flush()
        finally:
            if not self._writer.alive:  # a writer process that died: what comes next is written on a thread
                self._writer = make_writer(THREAD, self.tracking_uri, self._store)

    def close(self) -> None:
        """Flush and stop the writer (a writer process exits); a later write starts a new one."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()

    def run_id(self, trial_id: str) -> str | None:
        """The MLflow run of trial `trial_id` (None: it never started), once its creation is written."""
        run = self._runs.get(trial_id)
        return run.result() if isinstance(run, Future) else run

    def prepare(self) -> StudyTracker:
        """Open the store (MLflow creates and migrates a new SQLite store: seconds) and find or create the study's
        experiment; a run calls it in a thread while Ray starts."""
        self.experiment_id()
        return self

    def experiment_id(self) -> str:
        exp = self.client.get_experiment_by_name(self.study)
        if exp is not None:
            return exp.experiment_id
        location = Path(self.artifact_root, self.study).as_uri() if self.artifact_root else None
        return self.client.create_experiment(self.study, artifact_location=location)

    def start_study(self, run_name: str, tags: dict[str, str], params: dict[str, Any]) -> str:
        tags = {T.ROLE: T.ROLE_STUDY, T.STUDY: self.study, T.STATUS: statuses.RUNNING, **tags}
        run = self.client.create_run(self.experiment_id(), run_name=run_name,
                                     tags={t.key: t.value for t in tags_of(tags)})
        self.parent_run_id = run.info.run_id
        self._log_params(self.parent_run_id, params)
        return self.parent_run_id

    def log_base_config(self, config: dict[str, Any]) -> None:
        """The base config (nested) as the parent's base_config.yaml: one file, not ~70 params beside study.*."""
        self.client.log_dict(self.parent_run_id, config, P.BASE_CONFIG)

    def log_pretraining(self, checkpoint: str, config: Any, files: list[Path], metrics: dict[str, float],
                        stop: str | None) -> None:
        """The pretraining on the parent run: the checkpoint every trial starts from (a param), its config, state
        and history (artifacts), its final report (metrics pretrain/...) and how a monitor stopped it."""
        parent = self.parent_run_id
        self.client.log_param(parent, P.PRETRAIN_CHECKPOINT, checkpoint)
        self.client.log_dict(parent, config_dict(config), f"{P.PRETRAIN_ARTIFACTS}/config.yaml")
        for path in files:
            self.client.log_artifact(parent, str(path), P.PRETRAIN_ARTIFACTS)
        if metrics:
            now = int(time.time() * 1000)
            self.client.log_batch(parent, metrics=[Metric(f"{P.PRETRAIN_METRIC_PREFIX}{k}", v, now, 0)
                                                   for k, v in metrics.items()])
        if stop:
            self.client.log_param(parent, P.PRETRAIN_STOP, stop[:500])

    def log_lr_range(self, folder: Path, suggestion: str) -> None:
        """The LR range test on the parent run: its curve (the files in `folder`) and the optim.lr it picked."""
        self.client.log_artifacts(self.parent_run_id, str(folder), P.LR_RANGE_ARTIFACTS)
        self.client.log_param(self.parent_run_id, P.LR_RANGE_SUGGESTION, suggestion)

    def resume_study(self, parent_run_id: str) -> None:
        self.parent_run_id = parent_run_id
        self._earlier = None  # its trials' runs are read on the first trial start
        self.client.update_run(parent_run_id, status="RUNNING")
        self.client.set_tag(parent_run_id, T.STATUS, statuses.RUNNING)

    def end_study(self, status: str, tags: dict[str, str] | None = None, summary: Summary | None = None,
                  runs: list[Run] | None = None) -> None:
        """status: completed | interrupted | failed (the parent's MLflow status follows); `summary` (see
        studies.tracking.summary) adds its metrics, tags, summary.md and the best trial's hpstudy.best tag; `runs`:
        the trial runs as `trial_runs` read them (else they are searched for the earlier best)."""
        metrics = []
        if summary is not None:
            now = int(time.time() * 1000)
            metrics = [Metric(k, v, now, 0) for k, v in summary.metrics().items()]
            tags = {**(tags or {}), **summary.tags()}
            self.client.log_text(self.parent_run_id, summary.markdown(self.study), P.SUMMARY)
            self._mark_best(summary.best.run_id if summary.best else None, runs)
        self.client.log_batch(self.parent_run_id, metrics=metrics, tags=tags_of({T.STATUS: status, **(tags or {})}))
        self.client.set_terminated(self.parent_run_id, status=statuses.mlflow_status(status))

    def summarize(self, metric: str, mode: str, runs: list[Run] | None = None) -> Summary:
        """The summary of every trial of this study invocation, by the study's metric and mode (of `runs`, as
        `trial_runs` read them, else read now)."""
        return summarize(trial_rows(self._trial_runs() if runs is None else runs, metric), metric, mode)

    def tag_decisions(self, parent: dict[str, str], per_config: dict[str, dict[str, str]]) -> None:
        """Sequential replication's ends: `parent` tags on the study's run, `per_config[label]` on each trial run of
        that configuration."""
        self.client.log_batch(self.parent_run_id, tags=tags_of(parent))
        for run in self._trial_runs():
            tags = per_config.get(run.data.tags.get(T.CONFIG, ""))
            if tags:
                self.client.log_batch(run.info.run_id, tags=tags_of(tags))

    def _mark_best(self, run_id: str | None, runs: list[Run] | None = None) -> None:
        # Idempotent: a resumed study's earlier best may have lost its place.
        marked = ([r for r in runs if r.data.tags.get(T.BEST) == T.BEST_VALUE] if runs is not None
                  else self._trial_runs(f"and tags.`{T.BEST}` = '{T.BEST_VALUE}'"))
        for run in marked:
            if run.info.run_id != run_id:
                self.client.delete_tag(run.info.run_id, T.BEST)
        if run_id is not None:
            self.client.set_tag(run_id, T.BEST, T.BEST_VALUE)

    def trial_runs(self) -> list[Run]:
        """Every trial run of this invocation, in the order they started: one search, which the readers below take
        (`runs=`) so that a study's end reads its trials once (at 10,000 trials each search took seconds)."""
        return self._trial_runs()

    def _trial_runs(self, extra_filter: str = "") -> list[Run]:
        """This invocation's trial runs, in the order they started."""
        runs = self.client.search_runs(
            [self.experiment_id()],
            filter_string=(f"tags.`{T.PARENT_RUN_ID}` = '{self.parent_run_id}' and tags.`{T.ROLE}` = '{T.ROLE_TRIAL}' "
                           + extra_filter),
            max_results=50_000, order_by=["attributes.start_time ASC"],
        )
        return list(runs)

    def restored(self, trial_ids: list[str]) -> None:
        """A resumed Tune experiment's trials, as its last saved state lists them: the open runs of trials it does
        not know are adopted by the trials that train their configuration and seed again
        (studies.tracking.lost_runs)."""
        self._lost.find(self._trial_runs(), trial_ids)

    def _adopt(self, trial_id: str, name: str, seed: int) -> str | None:
        run_id = self._lost.adopt(self.client, trial_id, name, seed) if self._lost else None
        if run_id is not None:
            self._epochs.pop(trial_id, None)  # what it holds is read from the store
        return run_id

    def close_lost(self) -> bool:
        """Runs of trials Tune lost that no trial adopted: marked interrupted, never left RUNNING. Returns whether
        there were any (a read of the trial runs before is stale then)."""
        return self._lost.close(self.client) if self._lost else False

    def _earlier_run(self, trial_id: str) -> str | None:
        """The run an earlier session of this study (a resumed one) gave the trial: all of them read in one search,
        on the first trial start after a resume; a study started in this session has none, and asks nothing."""
        if self._earlier is None:
            self._earlier = {r.data.tags.get(T.TRIAL_ID, ""): r.info.run_id for r in self._trial_runs()}
        return self._earlier.get(trial_id)

    def trial_started(self, trial_id: str, *, name: str, seed: int, params: dict[str, Any],
                      config: dict[str, Any] | None = None, tags: dict[str, str] | None = None,
                      dataset: DatasetInput | None = None) -> bool:
        """`params`: what MLflow lists and compares; `config` (nested): the trial's config.yaml, all of it; `tags`:
        more of the run's tags (a confirmation's phase); `dataset`: what it trains on
        (studies.tracking.dataset_input). Returns whether the trial continues a run it had (a resumed or retried
        trial), whose epochs its checkpoint may hold beyond what the run has."""
        run_id = self.run_id(trial_id) or self._earlier_run(trial_id) or self._adopt(trial_id, name, seed)
        if run_id is not None:  # a resumed or retried trial continues its own run (or a lost trial's)
            self.client.update_run(run_id, status="RUNNING")
            self.client.set_tag(run_id, T.STATUS, statuses.RUNNING)
            stale = {T.STOP_REASON, T.STOP_EPOCH} & set(self.client.get_run(run_id).data.tags)
            for key in stale:  # how it ended before no longer holds; an absent tag must not read as the old one
                self.client.delete_tag(run_id, key)
            self._runs[trial_id] = run_id
            return True
        tags = {T.PARENT_RUN_ID: self.parent_run_id, T.ROLE: T.ROLE_TRIAL, T.STUDY: self.study,
                T.TRIAL_ID: trial_id, T.SEED: seed, T.CONFIG: name, T.STATUS: statuses.RUNNING, **(tags or {})}
        if self._experiment_id is None:
            self._experiment_id = self.experiment_id()
        self._runs[trial_id] = self._defer(writes.create_run, self._experiment_id, f"{name} seed={seed} [{trial_id}]",
                                           tags_of(tags), params, config, dataset, keep=True)
        self._epochs[trial_id] = set()  # a new run holds no epoch: nothing to read back from the store
        self._rows[trial_id] = {}  # ... and its history.csv is what this session logs to it
        self._written[trial_id] = time.monotonic()
        return False

    def trial_metrics(self, trial_id: str, metrics: dict[str, float], epoch: int) -> bool:
        """Log one epoch's metrics at step=epoch, once: an epoch the run already has is skipped (a resumed trial
        re-reports, or its checkpoint's history is backfilled), so every epoch reaches MLflow exactly once.
        Returns whether it was logged."""
        logged = self._epochs.get(trial_id)
        if logged is None:  # first call in this driver (a resumed study): what the store already holds
            logged = self._epochs[trial_id] = self._logged_epochs(trial_id)
        if epoch in logged:
            return False
        now = int(time.time() * 1000)
        batch = [Metric(k, float(v), now, epoch) for k, v in metrics.items()]
        held = self._held.setdefault(trial_id, [])
        held.extend(batch)
        if time.monotonic() - self._written.get(trial_id, 0.0) >= _HOLD_S:
            self._send_held(trial_id)
        logged.add(epoch)
        if trial_id in self._rows:
            self._rows[trial_id][epoch] = {m.key: m.value for m in batch}
        return True

    def _send_held(self, trial_id: str | None = None) -> None:
        """Queue the held epochs of `trial_id` (None: of every trial)."""
        for held_id in [trial_id] if trial_id is not None else list(self._held):
            held = self._held.pop(held_id, None)
            if held:
                self._defer(writes.log_metrics, self._runs[held_id], held)
            self._written[held_id] = time.monotonic()

    def trial_text(self, trial_id: str, text: str, name: str) -> None:
        """A text artifact of the trial's run (e.g. the warm-start coverage report)."""
        self._defer(writes.log_text, self._runs[trial_id], text, name)

    def trial_params(self, trial_id: str, params: dict[str, Any]) -> None:
        """Params logged after the trial started (those an out-of-memory retry may change, with its first report);
        any the run already holds (a resumed trial's) are kept: MLflow never changes a logged param."""
        if trial_id in self._runs:
            self._defer(writes.log_new_params, self._runs[trial_id], params)

    def trial_config_changed(self, trial_id: str, changed: dict[str, Any], config: dict[str, Any]) -> None:
        """The trial now trains with `config` (an out-of-memory retry halved its batch): a tag says what changed and
        config.yaml is rewritten. The params that changed are logged with the first report (`trial_params`), so a
        retry in the first epoch shows in them; after a later retry they keep the values of the epochs before."""
        run_id = self.run_id(trial_id)
        if run_id is None:
            return
        self.client.set_tag(run_id, T.CONFIG_CHANGED, ", ".join(f"{k}={v}" for k, v in sorted(changed.items())))
        self.client.log_dict(run_id, config, P.TRIAL_CONFIG)

    def trial_retried(self, trial_id: str, line: str) -> None:
        """A retry of the trial (its process died, or it raised): counted in a tag, and a line in retries.txt."""
        run_id = self.run_id(trial_id)
        if run_id is None:
            return
        if trial_id not in self._retries:  # first in this driver: a resumed study continues the run's own list
            self._retries[trial_id] = self._logged_retries(run_id)
        lines = self._retries[trial_id]
        lines.append(line)
        self.client.set_tag(run_id, T.RETRIES, str(len(lines)))
        self.client.log_text(run_id, "\n".join(lines) + "\n", P.TRIAL_RETRIES)

    def _logged_retries(self, run_id: str) -> list[str]:
        if T.RETRIES not in self.client.get_run(run_id).data.tags:
            return []
        with tempfile.TemporaryDirectory() as directory:
            path = self.client.download_artifacts(run_id, P.TRIAL_RETRIES, directory)
            return Path(path).read_text().splitlines()

    def _logged_epochs(self, trial_id: str) -> set[int]:
        # train/loss: the one metric every epoch reports, whatever the task, with a validation split or without
        return {m.step for m in self.client.get_metric_history(self.run_id(trial_id), "train/loss")}

    def trial_ended(self, trial_id: str, status: str, reason: str = "", stop_epoch: int | None = None) -> None:
        """Queued like its epochs (Tune's loop goes on); a write that failed before is raised here."""
        run = self._runs.get(trial_id)
        if run is None:
            return
        if self._writer is not None:
            self._writer.raise_failed()
        rows = self._rows.pop(trial_id, None)  # kept until now only: nothing per trial outlives its end
        self._epochs.pop(trial_id, None)
        self._written.pop(trial_id, None)
        self._defer(writes.end_trial, run, history_csv(rows) if rows is not None else None,  # None: read from the run
                    tags_of({T.STATUS: status, T.STOP_REASON: reason, T.STOP_EPOCH: stop_epoch}),
                    statuses.mlflow_status(status), self._held.pop(trial_id, []))

    def history_csv(self, run_id: str) -> str:
        """One row per epoch (MLflow's step), a column per metric the run logged; empty where an epoch lacks it."""
        return writes.run_history(self.client, run_id)

    def open_trials(self) -> list[str]:
        """Trial ids whose runs are still RUNNING (to be marked interrupted when the study stops early)."""
        running = RunStatus.to_string(RunStatus.RUNNING)
        return [t for t in self._runs if self.client.get_run(self.run_id(t)).info.status == running]

    def interrupt_open(self) -> None:
        """Mark the trials still RUNNING interrupted: the study stopped under them; --resume continues them."""
        for trial_id in self.open_trials():
            self.trial_ended(trial_id, statuses.INTERRUPTED, "study interrupted; --resume continues it")

    def _log_params(self, run_id: str, params: dict[str, Any]) -> None:
        writes.log_params(self.client, run_id, params)
