"""A plan, run: its data and surroundings checked, Ray started, the profile chosen, then the study's steps in order:
the parent run opened (or reopened), the steps before the trials, the trials, the closing report and exit code.
"""

from __future__ import annotations

import importlib
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpstudy.schema import params as P
from hpstudy.schema import tags as T
from hpstudy.schema.locations import ARTIFACTS, RUNS_DIR
from search_spaces import to_overrides
from studies.assembly import pretrain, smoke
from studies.assembly.assemble import UsageError
from studies.assembly.profiles import data_line, data_problem
from studies.assembly.study_protocol import describe
from studies.cli import before_trials
from studies.cli.exit_status import EXIT_INTERRUPTED, Outcome, surroundings_failure
from studies.cli.plan import Chosen, Plan
from studies.cli.preflight import check_surroundings
from studies.cli.state import StudyState, save_state
from studies.study import Study
from studies.tracking.trial_reads import trial_outcomes
from studies.tracking.writer import writer_for
from studies.trial_config import kind
from trainables.config.overrides import apply_overrides

if TYPE_CHECKING:
    from studies.tracking.summary import Summary
    from studies.tracking.tracker import StudyTracker


@dataclass(frozen=True)
class Opened:
    """What the steps before the trials made: the parent run's tracker, the study as its trials train it (from the
    pretraining's checkpoint, at the LR range test's pick) and the state a resume reads (the Tune experiment too)."""

    tracker: StudyTracker
    study: Study
    state: StudyState


def run(plan: Plan, *, trial_factory=None) -> int:
    """Run `plan`; `trial_factory` (tests: a closed-form objective) replaces a Ray Train run per trial."""
    if plan.requested in ("local", "full"):  # auto falls back to local when full's data is missing
        _check_data(plan.studies[plan.requested])
    check_surroundings(plan.runs_dir, plan.tracking_uri, plan.address, plan.storage)
    if plan.requested == "smoke":
        rehearsal = plan.studies["smoke"]
        smoke.write_data(rehearsal.base, plan.runs_dir)
        smoke.write_pretrain_data(rehearsal.pretrain, rehearsal.base, plan.runs_dir)

    # Ray starts only for a run that passed the checks above; while it starts (seconds, mostly waiting on its
    # processes) two threads import MLflow and set up a new store, and import Ray Tune and the trainer.
    from studies.tune import cluster as ray_cluster

    with ThreadPoolExecutor(max_workers=2) as pool:
        store = pool.submit(_tracker, plan)
        tuning = pool.submit(importlib.import_module, "studies.tune.tuner")
        cluster = ray_cluster.connect(plan.address, worker_groups=plan.worker_groups(),
                                      code_dirs=[plan.code_dir] if plan.code_dir else [])
        tracker, tuner = store.result(), tuning.result()
    try:
        chosen = plan.choose(cluster.gpus)
        _check_data(chosen.study)
        _announce(plan, chosen)
        return run_steps(plan, chosen.study, tuner, cluster, trial_factory=trial_factory, tracker=tracker)
    finally:
        ray_cluster.shutdown()


def _tracker(plan: Plan) -> StudyTracker:
    from studies.tracking.tracker import StudyTracker

    return StudyTracker(plan.tracking_uri, plan.name, plan.runs_dir / ARTIFACTS).prepare()


def run_steps(plan: Plan, study: Study, tuner, cluster, *, trial_factory=None,
              tracker: StudyTracker | None = None) -> int:
    """The study's steps on a started cluster: the parent run, the steps before the trials, the trials, the end.
    `tuner` is `studies.tune.tuner` (tests hand in a stand-in without Ray); `tracker`, the study's, prepared."""
    tracker = tracker or _tracker(plan)
    try:
        return _trials(plan, _open(plan, study, tuner, tracker), tuner, cluster, trial_factory)
    finally:
        _best_effort(tracker.close, what="MLflow's queued writes")  # a writer process exits


def _check_data(study: Study) -> None:
    """The trials' data, and the pretraining's when it runs, readable; else one line naming what is missing."""
    reason = data_problem(study)
    if reason:
        raise UsageError(reason)


def _announce(plan: Plan, chosen: Chosen) -> None:
    study = chosen.study
    print(f"hpstudy: {plan.name}, profile {chosen.profile} ({chosen.why}); data: {data_line(study.base)}", flush=True)
    if smoke.NOTES_TAG in study.tags:
        print(f"note: {study.tags[smoke.NOTES_TAG]}", flush=True)
    for note in [] if plan.resumed else pretrain.replaced_steps(study, plan.sets, plan.lr_range):
        print(f"note: {note}", flush=True)


def _open(plan: Plan, study: Study, tuner, tracker: StudyTracker) -> Opened:
    """The parent run started (or the interrupted one reopened), the steps before the trials run (or their results
    taken from the saved state) and the state a resume needs saved."""
    from studies.tracking.logged_config import config_dict

    resumed = plan.resumed
    if resumed is not None:
        tracker.resume_study(resumed.parent_run_id)
        experiment, checkpoint = resumed.experiment, resumed.pretrain_checkpoint
    else:
        experiment = experiment_name(study.profile)
        tracker.start_study(f"{study.name}-{experiment}", study_tags(study, plan), study_params(study))
        checkpoint = None
    sets = dict(plan.sets)
    if pretrain.runs(study):
        if resumed is not None and not checkpoint:
            raise UsageError(f"--resume: the interrupted run of {study.name} saved no pretraining checkpoint; "
                             "start it anew (without --resume)")
        if resumed is None:
            checkpoint = _failing_parent(tracker, lambda: before_trials.pretraining(study, tracker, plan.runs_dir,
                                                                                     tuner))
        else:
            print(f"pretraining: reusing the interrupted run's, {checkpoint}", flush=True)
        study = pretrain.start_from(study, checkpoint)
    steps = pretrain.lr_range_steps(study, sets, plan.lr_range)
    if steps and resumed is None:  # after the pretraining: the range test starts from its checkpoint
        sets["optim.lr"] = _failing_parent(tracker, lambda: before_trials.lr_range(study, steps, tracker,
                                                                                    plan.runs_dir, tuner))
        study = replace(study, base=apply_overrides(study.base, {"optim.lr": sets["optim.lr"]}))
    if resumed is None:
        own = kind(study.base).own  # a function's defaults are logged as they are
        tracker.log_base_config(dict(study.base) if own else config_dict(study.base))  # after --lr-range's pick
    state = StudyState(study.name, study.profile, sets, plan.num_samples, experiment, tracker.parent_run_id,
                       plan.tracking_uri,
                       seeds=list(plan.seeds) if isinstance(plan.seeds, tuple) else plan.seeds,
                       replication=plan.replication, confirm=plan.confirm,
                       pretrain_checkpoint=checkpoint, workers=study.workers_per_trial, storage=plan.storage)
    if resumed is not None:  # sequential replication: the wave it was in (studies.cli.waves)
        state = replace(state, wave=resumed.wave, wave_configs=resumed.wave_configs, wave_seeds=resumed.wave_seeds)
    save_state(plan.state_dir, state)
    return Opened(tracker, study, state)


def experiment_name(profile: str) -> str:
    """'local-20261207-101500-3fa29c1e': the time it started, to the second, and 8 random hex digits, so studies
    started in one second (a scheduler's array job) get experiments and parent runs of their own (4 digits gave two
    of 50 one name about one time in 50; 8: one in 3 million)."""
    return f"{profile}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}"


def _failing_parent(tracker: StudyTracker, work):
    """`work()`, a step the study runs before its trials; if it fails or is interrupted the parent run is marked
    failed (nothing is resumable yet: the state is saved once the steps are done)."""
    try:
        return work()
    except BaseException:
        tracker.end_study("failed")
        raise


def _trials(plan: Plan, opened: Opened, tuner, cluster, trial_factory) -> int:
    """The trials through Ray Tune, each logged as it goes (in waves of seeds for sequential replication); then how
    the study ended, as its exit code."""
    study, tracker = opened.study, opened.tracker
    tracker.writer_kind = writer_for(study.total_trials())
    trial = (trial_factory or tuner.train_trial)(study, _resolver(kind(study.base).flat(study.base)), plan.storage)

    def tune(part: Study, name: str, resume: bool, progress) -> None:
        if resume and part is not study:  # a wave of sequential replication: continued only if Tune saved it
            resume = getattr(tuner, "can_resume", lambda *_: False)(plan.storage, name)
        _tune(plan, opened, tuner, cluster, trial, part, name, resume, progress)

    if study.replication is not None:
        from studies.cli import waves

        return waves.run(plan, opened, tune, lambda: _interrupted(plan, opened), lambda: _close(plan, opened))
    tune(study, opened.state.experiment, plan.resumed is not None, _progress(study, tracker, plan.resumed is not None))
    runs = tracker.trial_runs()  # one read of the trials, which the closing steps share
    if Outcome.of(trial_outcomes(runs)).ended < study.total_trials():  # Tune returns normally on Ctrl-C
        return _interrupted(plan, opened)
    if study.confirm is not None:
        from studies.cli import confirm

        code = confirm.run(plan, opened, tune, lambda: _interrupted(plan, opened))
        if code is not None:
            return code
        runs = None  # the confirmation's trials came after that read
    return _close(plan, opened, runs)


def _tune(plan: Plan, opened: Opened, tuner, cluster, trial, study: Study, name: str, resume: bool, progress) -> None:
    """One Tune experiment of `study`'s trials, each logged as it goes; an exception marks the study failed."""
    from studies.tracking.trial_log import TrialLog

    tracker = opened.tracker
    log = TrialLog(study, tracker, progress=progress, verbose=plan.verbose, checkpointed=trial.checkpointed)
    events = tuner.TrialEvents(log.started, log.result, log.ended, log.retried, tracker.restored,
                               on_snapshot=tracker.flush)
    try:
        tuner.run_tuner(study, trial, cluster=cluster, storage=plan.storage, name=name, events=events, resume=resume,
                        failure_log=failure_log(plan, opened))
    except BaseException as err:
        # each step on its own: on a full disk one of them may fail too, and the others still run
        resumable = surroundings_failure(err) is not None  # fixed surroundings: --resume continues it
        _best_effort(log.progress.close)
        _best_effort(log.interrupt_open)
        _best_effort(lambda: tracker.end_study("interrupted" if resumable else "failed"))
        raise
    log.progress.close()


def failure_log(plan: Plan, opened: Opened) -> Path:
    """Where Ray's tracebacks of this study invocation's failed trials go (the terminal keeps a line each)."""
    return plan.runs_dir / "logs" / f"{opened.study.name}-{opened.state.experiment}.log"


def _best_effort(step, what: str = "") -> None:
    try:
        step()
    except Exception as err:  # noqa: BLE001 -- the error being handled is the one the user sees
        print(f"warning: {what + ': ' if what else ''}{type(err).__name__}: "
              f"{str(err).splitlines()[0][:200] if str(err) else ''}", file=sys.stderr)


def _interrupted(plan: Plan, opened: Opened) -> int:
    """A study whose trials did not all end: the parent run marked interrupted with its summary so far, and the
    command that resumes it."""
    study, tracker = opened.study, opened.tracker
    tracker.interrupt_open()  # the trials Tune stopped on Ctrl-C
    tracker.close_lost()
    runs = tracker.trial_runs()
    ended = Outcome.of(trial_outcomes(runs)).ended
    tracker.end_study("interrupted", summary=tracker.summarize(study.metric, study.mode, runs), runs=runs)  # so far
    total = "" if study.replication or study.confirm else f" of {study.total_trials()}"
    print(f"\nstudy {study.name} was interrupted ({ended}{total} trials ended); state saved.\n"
          f"resume with: {plan.prog} {plan.target or study.name} --resume"
          + (f" --runs-dir {plan.runs_dir}" if plan.runs_dir != RUNS_DIR.resolve() else ""),
          file=sys.stderr, flush=True)
    return EXIT_INTERRUPTED


def _close(plan: Plan, opened: Opened, runs: list | None = None) -> int:
    """A finished study: its parent run ended with a summary, the state marked finished, the closing report.
    `runs`: its trial runs as `StudyTracker.trial_runs` read them after the trials (else read here)."""
    from studies.tracking.closing_report import print_summary
    from studies.tracking.ui import mlflow_ui_command, runs_url

    study, tracker = opened.study, opened.tracker
    if tracker.close_lost() or runs is None:  # closing a lost trial's run changed what was read
        runs = tracker.trial_runs()
    outcome = Outcome.of(trial_outcomes(runs))
    summary = tracker.summarize(study.metric, study.mode, runs)
    tracker.end_study(outcome.status, outcome.tags(), summary, runs)
    save_state(plan.state_dir, replace(opened.state, finished=True))
    print_summary(study, plan.tracking_uri, tracker.parent_run_id, runs)
    _best_effort(lambda: _best_model(plan, opened, summary), what="best model not logged")
    print(f"\nbrowse the runs: {mlflow_ui_command(plan.tracking_uri, plan.runs_dir)}")
    print(f"this study's runs: {runs_url(plan.tracking_uri, tracker.experiment_id())}")
    if outcome.lines():
        log = failure_log(plan, opened)
        print("\n" + "\n".join(outcome.lines()) + (f"\ntracebacks: {log}" if log.exists() else ""), file=sys.stderr,
              flush=True)
    return outcome.exit_code


def _best_model(plan: Plan, opened: Opened, summary: Summary) -> None:
    """The best trial's weights on the parent run, as an MLflow PyTorch model (studies.tracking.best_model)."""
    from studies.tracking.best_model import log_best_model

    line = log_best_model(opened.tracker, summary.best, plan.storage, own=kind(opened.study.base).own)
    if line:
        print(line, flush=True)


def _resolver(base: dict[str, Any]):
    def resolve(trial_config: dict[str, Any]) -> dict[str, Any]:
        return {**base, **to_overrides(trial_config)[1]}
    return resolve


def _progress(study: Study, tracker: StudyTracker, resumed: bool):
    """The progress line; a resumed study's counts and best so far start from its earlier session's trials."""
    from studies.tracking.progress import Progress

    if not resumed:
        return Progress(total=study.total_trials(), metric=study.metric, mode=study.mode)
    runs = tracker.trial_runs()
    earlier = tracker.summarize(study.metric, study.mode, runs)
    done = Outcome.of(trial_outcomes(runs)).ended
    best = (earlier.best.value, f"{earlier.best.config} seed={earlier.best.seed}") if earlier.best else None
    return Progress(total=study.total_trials(), metric=study.metric, mode=study.mode, done=done, best=best)


def study_tags(study: Study, plan: Plan) -> dict[str, str]:
    """The parent run's tags: how it was run, on what code, under which protocol, and its catalogue line."""
    from hpstudy.schema.metrics import specs_to_json
    from studies.tracking.provenance import git_sha, package_versions
    from trainables.tasks import task_class  # validated when the study was built

    entry = plan.entry
    catalogue = ({T.SEED_NOTE: entry.seed or "", T.EXPERIMENT: entry.experiment, T.DESCRIPTION: entry.description}
                 if entry is not None else {})
    own = {T.STUDY_FILE: plan.target, T.STUDY_GIT_SHA: git_sha(plan.code_dir)} if plan.code_dir else {}
    specs = {} if kind(study.base).own else {T.METRIC_SPECS: specs_to_json(task_class(study.base.task).metrics)}
    return {T.PROFILE: study.profile, T.GIT_SHA: git_sha(), T.COMMAND: plan.command, T.PROTOCOL: describe(study),
            **specs, **catalogue, **own, **study.tags,
            **({T.BASELINE: study.baseline} if study.baseline else {}),
            **{f"{T.VERSION_PREFIX}{k}": v for k, v in package_versions().items()}}


def study_params(study: Study) -> dict[str, Any]:
    """How the study searches; the base config is the parent's base_config.yaml (StudyTracker.log_base_config)."""
    s = P.STUDY_PREFIX
    return {f"{s}search": study.search, f"{s}metric": study.metric, f"{s}mode": study.mode,
            f"{s}num_samples": study.num_samples, f"{s}asha": study.asha,
            f"{s}space": {k: repr(v) for k, v in study.space.items()}}
