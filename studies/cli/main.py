"""`python -m studies.run NAME [--profile auto|local|full] [--set k=v ...] [--resume] ...`: the arguments made into
one plan (`studies.cli.plan`), shown (`--dry-run`) or run (`studies.cli.execute`); bad input is one line, exit 2.

Only the standard library is imported before the arguments are parsed, so `--help` answers at once; `--list`
imports the catalogue, not torch, Ray or MLflow.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from hpstudy.schema.errors import BadInput
from hpstudy.schema.locations import RUNS_DIR
from studies.cli.exit_status import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    EXIT_SURROUNDINGS,
    EXIT_TRIALS_FAILED,
    PretrainFailed,
    surroundings_failure,
)


def build_parser(prog: str = "python -m studies.run") -> argparse.ArgumentParser:
    """The CLI's arguments (docs/reference/cli.md is generated from this parser)."""
    p = argparse.ArgumentParser(prog=prog, description="Run a study: one of the catalogue's, or a study file of your "
                                                       "own.")
    p.add_argument("name", nargs="?", metavar="NAME_OR_PATH",
                   help="a catalogue study's name (see --list), or the path of a study file of your own "
                        "(my_study.py: its name is the file's stem, and its folder's modules import)")
    p.add_argument("--list", action="store_true",
                   help="list the studies, one line each (name, experiment, description), grouped by seed note")
    p.add_argument("--profile", choices=("auto", "local", "full"), default="auto",
                   help="local: the study's small version on embedded data, minutes on CPU; full: the seed note's "
                        "setup on its real data and GPUs; auto: full when its data and GPUs are here, else local")
    p.add_argument("--smoke", action="store_true",
                   help="rehearse the full profile on CPU in seconds: generated data in its on-disk layout, "
                        "2 epochs, 1 seed")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a fixed hyperparameter, e.g. --set optim.lr=0.05 (repeatable)")
    p.add_argument("--seeds", metavar="S,S,...|auto",
                   help="the replicates, e.g. --seeds 0,1,2,3,4: every configuration is trained once per seed, in "
                        "place of the study's own seeds. A grid runs configurations x seeds trials; a random or TPE "
                        "search trains each configuration it samples once per seed (--num-samples configurations x "
                        "seeds trials), and TPE learns from the mean over its seeds. With ASHA each seed's trial is "
                        "stopped or promoted on its own. --smoke keeps the first seed. auto: a grid with a baseline "
                        "trains seeds in waves, only for the configurations not yet decided better, worse or "
                        "equivalent to the baseline (the study's replication policy, or minimum=3, maximum=10, "
                        "delta=0.005, alpha=0.05, wave=1)")
    p.add_argument("--replication", metavar="KEY=V,...",
                   help="change the replication policy of --seeds auto, e.g. --replication maximum=12,delta=0.01: "
                        "minimum and maximum seeds per comparison, delta the equivalence margin in the metric's "
                        "units (0.005 = 0.5 pp of an accuracy), alpha the chance of any wrong decision, wave the "
                        "seeds added at a time")
    p.add_argument("--confirm", type=int, metavar="K",
                   help="after a search, retrain its K best configurations (by mean validation score) on fresh seeds, "
                        "paired with the base config; the report leads with that table, not the search's optimistic "
                        "best. With --seeds auto the seeds come in waves until each comparison is decided")
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
    p.add_argument("--runs-dir", type=Path, default=RUNS_DIR, help="MLflow store and Tune state")
    p.add_argument("--storage", metavar="PATH_OR_URI",
                   help="Ray's experiment and the trials' checkpoints: a folder every node sees, or s3://, gs://, "
                        "... (default: RUNS_DIR/ray)")
    p.add_argument("--private-network", action="store_true",
                   help="run a local study in a network namespace of its own (Linux), where Ray listens on nothing "
                        "another host can reach; for a study that needs no other host")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="a line per trial epoch and per trial end (default: one progress line)")
    return p


def parse_args(argv: list[str] | None, prog: str = "python -m studies.run") -> argparse.Namespace:
    return build_parser(prog).parse_args(argv)


def main(argv: list[str] | None = None, *, trial_factory=None, prog: str = "python -m studies.run") -> int:
    """`trial_factory`: a `studies.tune.tuner.TrialFactory` to run instead of one Ray Train run per trial (tests pass
    a closed-form objective, so the tuner and its bookkeeping run in seconds, without training)."""
    from_command_line = argv is None
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv, prog)
    try:
        if args.list:
            from studies import registry

            print(registry.listing())
            return 0
        if args.private_network and not args.dry_run:
            _private_network(args, argv, from_command_line)
        from studies.tune.signals import terminate_as_interrupt

        with terminate_as_interrupt():  # a scheduler's SIGTERM does what Ctrl-C does
            return _run(args, prog, shlex.join(argv), trial_factory)
    except BadInput as err:
        print(f"error: {err.args[0] if err.args else err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PretrainFailed as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_TRIALS_FAILED
    except KeyboardInterrupt:
        print("interrupted before the study started; nothing to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:
        why = surroundings_failure(err)
        if why is None:
            raise  # a bug: its traceback
        again = f"{prog} {args.name} --resume" + (f" --runs-dir {args.runs_dir}" if args.runs_dir != RUNS_DIR else "")
        print(f"error: {why}; the study's state is saved: fix that, then: {again}", file=sys.stderr)
        return EXIT_SURROUNDINGS


def _private_network(args: argparse.Namespace, argv: list[str], from_command_line: bool) -> None:
    """Re-run this command in a network namespace of its own (studies.cli.private_network), unless already there."""
    from studies.cli import private_network

    if private_network.inside():
        return
    private_network.check(args.address, args.tracking_uri, args.storage)
    if not from_command_line:  # a caller's own process (a test's main([...])) is not replaced
        raise BadInput(f"{private_network.FLAG}: only from the command line, `python -m studies.run ... "
                       f"{private_network.FLAG}` (it runs that command again in the namespace)")
    private_network.enter(argv)


def _run(args: argparse.Namespace, prog: str, argv: str, trial_factory) -> int:
    from studies.cli.plan import make_plan

    plan = make_plan(args, f"{prog} {argv}", prog)  # every input checked: nothing is started before this returns
    if args.dry_run:  # what it would run, from the plan alone: no Ray, no MLflow, no data
        from studies.cli import dry_run

        print(dry_run.show(plan, as_json=args.json))
        return 0
    from studies.cli import execute

    return execute.run(plan, trial_factory=trial_factory)


if __name__ == "__main__":
    sys.exit(main())
