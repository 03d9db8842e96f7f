"""One run of the CLI, decided once: the arguments, or the saved state of the run `--resume` continues, made into a
frozen `Plan` whose studies are built once each; every later step only reads it. Nothing here starts Ray, reads a
dataset or writes a file.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hpstudy.schema.locations import default_tracking_uri
from studies import registry
from studies.assembly.assemble import UsageError, absolute_sets, runnable, swept_keys
from studies.assembly.profiles import WHY_LOCAL, WHY_SMOKE, full_blocker
from studies.assembly.seeds import parse_seeds
from studies.cli.state import StudyState, load_state
from studies.study import MIN_LR_RANGE_STEPS, Study
from studies.tune.storage import resolve as resolve_storage
from trainables.config.overrides import parse_set_args

# Flags a resumed run takes from its saved state; giving one again is refused.
_RESUMED_FLAGS = ("--set/--seeds/--replication/--confirm/--num-samples/--profile/--smoke/--lr-range/--tracking-uri/--workers/"
                  "--storage")


@dataclass(frozen=True)
class Chosen:
    """The profile a run trains, why (the banner's words), and its study."""

    profile: str
    why: str
    study: Study


@dataclass(frozen=True)
class Plan:
    name: str
    requested: str  # auto | local | full | smoke; a resumed run: the profile it ran
    studies: Mapping[str, Study]  # each profile this run may train, built once (auto: local and full)
    sets: Mapping[str, str]  # --set, path values absolute (a resumed run: its own)
    num_samples: int | None
    seeds: tuple[int, ...] | str | None  # --seeds; None: each study's own; AUTO: sequential replication
    runs_dir: Path  # absolute: MLflow's SQLite store, the resume state, pretraining and reports
    storage: str  # Ray's experiment and the trials' checkpoints (studies.tune.storage)
    tracking_uri: str
    address: str | None  # a Ray cluster to join; None: start Ray on this machine
    lr_range: int | None  # --lr-range STEPS
    command: str  # the command line, as the parent run records it
    verbose: bool = False
    resumed: StudyState | None = None  # the interrupted run this one continues
    entry: registry.Entry | None = None  # its catalogue line (seed note, experiment, description), logged as tags
    target: str = ""  # how the command names the study: its catalogue name, or its study file's absolute path
    code_dir: Path | None = None  # a study file's folder: its modules reach the trials (studies.tune.cluster)
    prog: str = "python -m studies.run"  # the command as the user typed it (hpstudy run), for the lines it prints
    replication: str | None = None  # --replication: overrides of the study's replication policy
    confirm: int | None = None  # --confirm K: a search's best K retrained on fresh seeds

    @property
    def state_dir(self) -> Path:
        """The resume state's folder: on the driver, wherever --storage puts Ray's experiment."""
        return self.runs_dir / "ray" / self.name

    def worker_groups(self) -> bool:
        """Does a study this run may train use several Train workers per trial (DDP, which needs the dashboard)?"""
        return any(study.workers_per_trial > 1 for study in self.studies.values())

    def choose(self, gpus: float) -> Chosen:
        """The profile to train on a cluster of `gpus` GPUs; `--profile full` that cannot run is a UsageError."""
        if self.resumed is not None:
            return Chosen(self.requested, "as in the interrupted run", self.studies[self.requested])
        if self.requested == "local":
            return Chosen("local", WHY_LOCAL, self.studies["local"])
        if self.requested == "smoke":
            return Chosen("smoke", WHY_SMOKE, self.studies["smoke"])
        full = self.studies["full"]
        why_not = full_blocker(full, gpus)
        if why_not is None:
            return Chosen("full", f"its data and {full.gpus_per_trial:g} GPU per trial are present", full)
        if self.requested == "full":
            raise UsageError(why_not)
        return Chosen("local", f"full is not possible here: {why_not}", self.studies["local"])


def make_plan(args: argparse.Namespace, command: str, prog: str = "python -m studies.run") -> Plan:
    """The plan of `python -m studies.run ARGS`, every input checked; bad input raises a BadInput."""
    _check_flags(args)
    module, entry = registry.load(args.name), registry.entry(args.name)
    name, code_dir = registry.study_name(args.name), registry.code_dir(args.name)
    target = str(Path(module.__file__)) if code_dir is not None else name
    runs_dir = args.runs_dir.resolve()
    resumed = _resumed(args, name, runs_dir) if args.resume else None
    if resumed is not None:
        requested, sets, num_samples = resumed.profile, resumed.sets, resumed.num_samples
        seeds = resumed.seeds if resumed.seeds is None or isinstance(resumed.seeds, str) else tuple(resumed.seeds)
        replication, confirm = resumed.replication, resumed.confirm
        workers, tracking_uri = resumed.workers, resumed.tracking_uri
        storage = resumed.storage or resolve_storage(None, runs_dir, name)
    else:
        requested = "smoke" if args.smoke else args.profile
        sets = absolute_sets(parse_set_args(args.sets))  # absolute now: the saved state resumes from any folder
        num_samples, workers = args.num_samples, args.workers
        seeds = parse_seeds(args.seeds) if args.seeds is not None else None
        replication, confirm = args.replication, args.confirm
        storage = resolve_storage(args.storage, runs_dir, name)
        tracking_uri = args.tracking_uri or default_tracking_uri(runs_dir)
    profiles = ("local", "full") if requested == "auto" else (requested,)
    studies = {p: runnable(module, p, sets, num_samples=num_samples, seeds=seeds, runs_dir=runs_dir, workers=workers,
                           replication=replication, confirm=confirm) for p in profiles}
    if args.lr_range is not None and (args.lr_range < MIN_LR_RANGE_STEPS
                                      or any("optim.lr" in swept_keys(s) for s in studies.values())):
        raise UsageError(f"--lr-range {args.lr_range}: needs >= {MIN_LR_RANGE_STEPS} steps and a study that does not "
                         "vary optim.lr")
    return Plan(name, requested, studies, dict(sets), num_samples, seeds, runs_dir, storage, tracking_uri,
                args.address, args.lr_range, command, args.verbose, resumed, entry, target, code_dir, prog, replication,
                confirm)


def _check_flags(args: argparse.Namespace) -> None:
    """The flags' combinations, before anything is read."""
    if not args.name:
        raise UsageError("name a study to run (python -m studies.run --list shows them)")
    if args.resume and args.dry_run:
        raise UsageError("--dry-run shows the trials of a new run; drop --resume")
    if args.json and not args.dry_run:
        raise UsageError("--json prints a dry run's trials; add --dry-run")
    if args.smoke and args.profile != "auto":
        raise UsageError(f"--smoke rehearses the full profile; drop --profile {args.profile}")
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers {args.workers}: expected an integer >= 1")


def _resumed(args: argparse.Namespace, name: str, runs_dir: Path) -> StudyState:
    """The interrupted run of study `name` under `runs_dir`, which `--resume` continues with its own settings."""
    state = load_state(runs_dir / "ray" / name)
    if state is None or state.finished:
        raise UsageError(f"nothing to resume for {name} under {runs_dir}: no interrupted run found")
    if (args.sets or args.num_samples is not None or args.profile != "auto" or args.lr_range or args.tracking_uri
            or args.smoke or args.seeds is not None or args.workers is not None or args.storage or args.replication
            or args.confirm is not None):
        raise UsageError(f"--resume continues a study with its original settings; drop {_RESUMED_FLAGS}")
    return state
