"""Run a named study: `python -m studies.run NAME [--profile auto|local|full] [--set k=v ...] [--resume] ...`.

Ray Tune runs the trials, MLflow records them under one parent run, and a multi-seed table closes the study.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schema import params as P
from schema import tags as T
from search_spaces import to_overrides
from studies import registry
from studies.assembly import pretrain, smoke
from studies.assembly.assemble import UsageError, absolute_sets, build_study, swept_keys
from studies.assembly.profiles import choose_profile, data_line, missing_data
from studies.assembly.seeds import SeedsError, parse_seeds
from studies.assembly.study_protocol import ProtocolError, describe
from studies.cli import dry_run, signals
from studies.cli.exit_status import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_TRIALS_FAILED, Outcome
from studies.cli.preflight import SurroundingsError, check_surroundings
from studies.cli.progress import Progress
from studies.cli.state import StudyState, load_state, save_state
from studies.study import Study
from studies.tracking.logged_config import config_dict
from studies.tune.storage import StorageError
from studies.tune.storage import resolve as resolve_storage
from trainables.config.overrides import ConfigError, apply_overrides, flatten, parse_set_args
from trainables.data import DataError, check_root

if TYPE_CHECKING:
    from studies.tracking.tracker import StudyTracker


def build_parser() -> argparse.ArgumentParser:
    """The CLI's arguments (docs/reference/cli.md is generated from this parser)."""
    p = argparse.ArgumentParser(prog="python -m studies.run", description="Run a named hpstudy study.")
    p.add_argument("name", nargs="?", help="study name (see --list)")
    p.add_argument("--list", action="store_true",
                   help="list the studies, one line each (name, experiment, description), grouped by seed note")
    p.add_argument("--profile", choices=("auto", "local", "full"), default="auto")
    p.add_argument("--smoke", action="store_true",
                   help="rehearse the full profile on CPU in seconds: generated data in its on-disk layout, "
                        "2 epochs, 1 seed")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a fixed hyperparameter, e.g. --set optim.lr=0.05 (repeatable)")
    p.add_argument("--seeds", metavar="S,S,...",
                   help="the replicates, e.g. --seeds 0,1,2,3,4: every configuration is trained once per seed, in "
                        "place of the study's own seeds. A grid runs configurations x seeds trials; a random or TPE "
                        "search trains each configuration it samples once per seed (--num-samples configurations x "
                        "seeds trials), and TPE learns from the mean over its seeds. With ASHA each seed's trial is "
                        "stopped or promoted on its own. --smoke keeps the first seed")
    p.add_argument("--workers", type=int, metavar="N",
                   help="Train workers per trial (DDP; data.batch_size is per worker); default: the study's")
    p.add_argument("--num-samples", type=int,
                   help="configurations a search samples (each once per seed), or repeats of a grid")
    p.add_argument("--dry-run", action="store_true",
                   help="print the trials the study would run for the chosen profile (configuration x seed, each "
                        "with its resolved config; a search's space and trial count, since it samples while it "
                        "runs) and exit; starts nothing, reads and writes no data")
    p.add_argument("--json", action="store_true", help="with --dry-run: the trials as JSON")
    p.add_argument("--resume", action="store_true", help="continue the last interrupted run of this study")
    p.add_argument("--lr-range", type=int, metavar="STEPS",
                   help="first run an LR range test of STEPS steps on the base config and train every trial at the "
                        "suggested optim.lr")
    p.add_argument("--address", help="Ray cluster address (default: start Ray on this machine)")
    p.add_argument("--tracking-uri", help="MLflow tracking URI (default: SQLite under --runs-dir)")
    p.add_argument("--runs-dir", type=Path, default=Path("hpstudy_runs"), help="MLflow store and Tune state")
    p.add_argument("--storage", metavar="PATH_OR_URI",
                   help="Ray's experiment and the trials' checkpoints: a folder every node sees, or s3://, gs://, "
                        "... (default: RUNS_DIR/ray)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="a line per trial epoch and per trial end (default: one progress line)")
    return p


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def _resolver(base: dict[str, Any]):
    def resolve(trial_config: dict[str, Any]) -> dict[str, Any]:
        return {**base, **to_overrides(trial_config)[1]}
    return resolve


def main(argv: list[str] | None = None, *, trial_factory=None) -> int:
    """`trial_factory`: a `studies.tune.tuner.TrialFactory` to run instead of one Ray Train run per trial (tests pass a
    closed-form objective, so the tuner and its bookkeeping run in seconds, without training)."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    args.command = "python -m studies.run " + shlex.join(argv)
    args.trial_factory = trial_factory
    try:
        if args.list:
            print(registry.listing())
            return 0
        with signals.terminate_as_interrupt():  # a scheduler's SIGTERM does what Ctrl-C does
            return _run(args)
    except (UsageError, ConfigError, DataError, ProtocolError, SurroundingsError, SeedsError, StorageError,
            KeyError) as err:
        print(f"error: {err.args[0] if err.args else err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except pretrain.PretrainFailed as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_TRIALS_FAILED
    except KeyboardInterrupt:
        print("interrupted before the study started; nothing to resume", file=sys.stderr)
        return EXIT_INTERRUPTED


def _run(args: argparse.Namespace) -> int:
    if not args.name:
        raise UsageError("name a study to run (python -m studies.run --list shows them)")
    if args.resume and args.dry_run:
        raise UsageError("--dry-run shows the trials of a new run; drop --resume")
    if args.json and not args.dry_run:
        raise UsageError("--json prints a dry run's trials; add --dry-run")
    module = registry.load(args.name)
    runs_dir = args.runs_dir.resolve()
    state_dir = runs_dir / "ray" / args.name  # the resume state stays on the driver, wherever --storage points
    previous = load_state(state_dir) if args.resume else None
    if args.resume and (previous is None or previous.finished):
        raise UsageError(f"nothing to resume for {args.name} under {runs_dir}: no interrupted run found")
    if previous and (args.sets or args.num_samples is not None or args.profile != "auto" or args.lr_range
                     or args.tracking_uri or args.smoke or args.seeds is not None or args.workers is not None
                     or args.storage):
        raise UsageError("--resume continues a study with its original settings; drop --set/--seeds/--num-samples/"
                         "--profile/--smoke/--lr-range/--tracking-uri/--workers/--storage")
    if args.smoke and args.profile != "auto":
        raise UsageError(f"--smoke rehearses the full profile; drop --profile {args.profile}")
    # Paths absolute now, so the saved state resumes the same files from any folder.
    sets = previous.sets if previous else absolute_sets(parse_set_args(args.sets))
    num_samples = previous.num_samples if previous else args.num_samples
    storage = (previous.storage if previous else None) or resolve_storage(args.storage, runs_dir, args.name)
    seeds = _seeds(previous.seeds) if previous else parse_seeds(args.seeds) if args.seeds is not None else None
    # Everything that can be checked without Ray is, so bad input never starts a cluster or writes a file.
    requested = previous.profile if previous else "smoke" if args.smoke else args.profile
    local = pretrain.fit(build_study(module, "local", sets, num_samples, seeds=seeds), sets)  # validated as built
    if args.lr_range is not None and (args.lr_range < 10 or "optim.lr" in swept_keys(local)):
        raise UsageError(f"--lr-range {args.lr_range}: needs >= 10 steps and a study that does not vary optim.lr")
    if args.dry_run:  # what it would run, from the built study alone: no Ray, no MLflow, no data
        print(dry_run.show(args.name, module, requested, sets, num_samples, seeds, runs_dir,
                           lr_range=args.lr_range, as_json=args.json))
        return 0
    if requested == "local":
        _check_roots(local)
    if requested in ("full", "smoke"):
        full = pretrain.fit(build_study(module, "full", sets, None, seeds=seeds), sets)
        reason = _missing_data(full) if requested == "full" else None
        if reason:
            raise UsageError(reason)
    from studies.tracking.tracker import (
        default_tracking_uri,  # MLflow's imports (seconds) only for a run, not a dry run
    )

    tracking_uri = previous.tracking_uri if previous else (args.tracking_uri or default_tracking_uri(runs_dir))
    check_surroundings(runs_dir, tracking_uri, args.address, storage)
    smoke_data = smoke.write_data(full.base, runs_dir) if requested == "smoke" else None
    if requested == "smoke":
        smoke.write_pretrain_data(full.pretrain, full.base, runs_dir)

    from studies.tune import tuner as tune

    # A worker group per trial (workers_per_trial > 1, DDP) needs the dashboard; one-worker trials do not.
    chosen = previous.workers if previous else args.workers
    if chosen is not None and chosen < 1:
        raise UsageError(f"--workers {chosen}: expected an integer >= 1")
    workers = chosen or max(local.workers_per_trial, module.get_study("full").workers_per_trial)
    cluster = tune.connect(args.address, worker_groups=workers > 1)
    try:
        if previous:
            profile, why = previous.profile, "as in the interrupted run"
        else:
            profile, why = choose_profile(requested, module, sets, cluster.gpus, seeds)
        study = pretrain.fit(build_study(module, profile, sets, num_samples, smoke_data, seeds=seeds), sets)
        if chosen is not None:
            study = replace(study, workers_per_trial=chosen)
        study = dry_run.with_threads(study)
        _check_roots(study)  # the config was validated as it was built
        print(f"hpstudy: {args.name}, profile {profile} ({why}); data: {data_line(study.base)}", flush=True)
        if smoke.NOTES_TAG in study.tags:
            print(f"note: {study.tags[smoke.NOTES_TAG]}", flush=True)
        for note in [] if previous else pretrain.replaced_steps(study, sets, args.lr_range):
            print(f"note: {note}", flush=True)
        return _execute(args, study, previous, sets, seeds, runs_dir, state_dir, storage, cluster, tune,
                        tracking_uri)
    finally:
        tune.shutdown()


def _check_roots(study: Study) -> None:
    """The trials' data, and the pretraining's when it runs."""
    check_root(study.base.data.name, study.base.data.root)
    if study.pretrain is not None and pretrain.replaced_by(study) is None:
        check_root(study.pretrain.data.name, study.pretrain.data.root)


def _missing_data(study: Study) -> str | None:
    reason = missing_data(study.base)
    if reason is None and study.pretrain is not None and pretrain.replaced_by(study) is None:
        reason = missing_data(study.pretrain)
        reason = f"pretraining: {reason}" if reason else None
    return reason


def _seeds(saved: list[int] | None) -> tuple[int, ...] | None:
    return tuple(saved) if saved is not None else None


def _execute(args, study: Study, previous: StudyState | None, sets, seeds: tuple[int, ...] | None, runs_dir: Path,
             state_dir: Path, storage: str, cluster, tune, tracking_uri: str) -> int:
    from studies.tracking.tracker import StudyTracker, mlflow_ui_command, runs_url
    from studies.tracking.trial_log import TrialLog

    tracker = StudyTracker(tracking_uri, study.name, runs_dir / "mlartifacts")
    if previous:
        tracker.resume_study(previous.parent_run_id)
        experiment = previous.experiment
    else:
        experiment = f"{study.profile}-{time.strftime('%Y%m%d-%H%M%S')}"
        tracker.start_study(f"{study.name}-{experiment}", study_tags(study, args), study_params(study))
    checkpoint = previous.pretrain_checkpoint if previous else None
    if study.pretrain is not None and pretrain.replaced_by(study) is None:
        if previous and not checkpoint:
            raise UsageError(f"--resume: the interrupted run of {study.name} saved no pretraining checkpoint; "
                             "start it anew (without --resume)")
        if not previous:
            checkpoint = _before_trials(tracker, lambda: pretrain.step(study, tracker, runs_dir, tune))
        else:
            print(f"pretraining: reusing the interrupted run's, {checkpoint}", flush=True)
        study = pretrain.start_from(study, checkpoint)
    steps = pretrain.lr_range_steps(study, sets, args.lr_range)
    if steps and not previous:  # after the pretraining: the range test starts from its checkpoint
        sets = {**sets, "optim.lr": _before_trials(tracker, lambda: lr_range_step(study, steps, tracker, runs_dir,
                                                                                  tune))}
        study = replace(study, base=apply_overrides(study.base, {"optim.lr": sets["optim.lr"]}))
    if not previous:
        tracker.log_base_config(config_dict(study.base))  # after --lr-range: the optim.lr every trial starts from
    state = StudyState(study.name, study.profile, sets, previous.num_samples if previous else args.num_samples,
                       experiment, tracker.parent_run_id, tracking_uri,
                       seeds=list(seeds) if seeds is not None else None,  # parsed once, in _run (or resumed)
                       pretrain_checkpoint=checkpoint, workers=study.workers_per_trial, storage=storage)
    save_state(state_dir, state)
    trial = (args.trial_factory or tune.train_trial)(study, _resolver(flatten(study.base)), storage)
    log = TrialLog(study, tracker, progress=_progress(study, tracker, previous is not None), verbose=args.verbose,
                   checkpointed=trial.checkpointed)
    events = tune.TrialEvents(log.started, log.result, log.ended, log.retried)
    try:
        tune.run_tuner(study, trial, cluster=cluster, storage=storage, name=experiment, events=events,
                       resume=previous is not None)
    except BaseException:
        log.progress.close()
        log.interrupt_open()
        tracker.end_study("failed")
        raise
    log.progress.close()
    outcome = Outcome.of(tracker.trial_outcomes())
    ended = outcome.ended
    if ended < study.total_trials():  # Tune returns normally on Ctrl-C; only the counts tell
        log.interrupt_open()
        tracker.end_study("interrupted", summary=tracker.summarize(study.metric, study.mode))  # so far
        print(f"\nstudy {study.name} was interrupted ({ended} of {study.total_trials()} trials ended); state saved.\n"
              f"resume with: python -m studies.run {study.name} --resume"
              + (f" --runs-dir {args.runs_dir}" if args.runs_dir != Path("hpstudy_runs") else ""),
              file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    tracker.end_study(outcome.status, outcome.tags(), tracker.summarize(study.metric, study.mode))
    save_state(state_dir, replace(state, finished=True))
    from studies.tracking.closing_report import (
        print_summary,  # matplotlib and the analysis stack: only for a finished study
    )

    print_summary(study, tracking_uri, tracker.parent_run_id)
    print(f"\nbrowse the runs: {mlflow_ui_command(tracking_uri, runs_dir)}")
    print(f"this study's runs: {runs_url(tracking_uri, tracker.experiment_id())}")
    if outcome.lines():
        print("\n" + "\n".join(outcome.lines()), file=sys.stderr, flush=True)
    return outcome.exit_code


def _before_trials(tracker: StudyTracker, work):
    """`work()`, a step the study runs before its trials; if it fails or is interrupted the parent run is marked
    failed (nothing is resumable yet: the state is saved once the steps are done)."""
    try:
        return work()
    except BaseException:
        tracker.end_study("failed")
        raise


def lr_range_step(study: Study, steps: int, tracker: StudyTracker, runs_dir: Path, tune) -> str:
    """Seed 000's recipe as a study step: sweep the LR on the base config, log the curve, return the pick.

    The sweep runs as a Ray task on a trial's resources (its GPU, on a cluster) in a process that exits when it
    returns, so neither the driver nor an idle worker keeps the memory it trained with.
    """
    from trainables.optim.lr_range import plot, run_range_test, write_csv

    result = tune.run_once(run_range_test, study.base, steps=steps, cpus=study.cpus_per_trial,
                           gpus=study.gpus_per_trial)
    out = runs_dir / "lr_range" / tracker.parent_run_id
    out.mkdir(parents=True, exist_ok=True)
    write_csv(result, out / "lr_range.csv")
    plot(result, out / "lr_range.png")
    tracker.client.log_artifacts(tracker.parent_run_id, str(out), "lr_range")
    tracker.client.log_param(tracker.parent_run_id, P.LR_RANGE_SUGGESTION, f"{result.suggestion:.4g}")
    print(f"LR range test ({len(result.lrs)} steps): every trial trains at optim.lr={result.suggestion:.4g}",
          flush=True)
    return f"{result.suggestion:.4g}"


def study_tags(study: Study, args: argparse.Namespace) -> dict[str, str]:
    from schema.metrics import specs_to_json
    from studies.tracking.provenance import git_sha, package_versions
    from trainables.tasks import task_class  # validated when the study was built

    return {T.PROFILE: study.profile, T.GIT_SHA: git_sha(), T.COMMAND: args.command, T.PROTOCOL: describe(study),
            T.METRIC_SPECS: specs_to_json(task_class(study.base.task).metrics), **study.tags, **({T.BASELINE: study.baseline} if study.baseline else {}),
            **{f"{T.VERSION_PREFIX}{k}": v for k, v in package_versions().items()}}


def study_params(study: Study) -> dict[str, Any]:
    """How the study searches; the base config is the parent's base_config.yaml (StudyTracker.log_base_config)."""
    s = P.STUDY_PREFIX
    return {f"{s}search": study.search, f"{s}metric": study.metric, f"{s}mode": study.mode,
            f"{s}num_samples": study.num_samples, f"{s}asha": study.asha,
            f"{s}space": {k: repr(v) for k, v in study.space.items()}}


def _progress(study: Study, tracker: StudyTracker, resumed: bool) -> Progress:
    """The progress line; a resumed study's counts and best so far start from its earlier session's trials."""
    if not resumed:
        return Progress(total=study.total_trials(), metric=study.metric, mode=study.mode)
    earlier = tracker.summarize(study.metric, study.mode)
    done = Outcome.of(tracker.trial_outcomes()).ended
    best = (earlier.best.value, f"{earlier.best.config} seed={earlier.best.seed}") if earlier.best else None
    return Progress(total=study.total_trials(), metric=study.metric, mode=study.mode, done=done, best=best)


if __name__ == "__main__":
    sys.exit(main())
