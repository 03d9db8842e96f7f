"""How the driver scales with a study's size: `python -m benchmarks.driver_scale [--trials N | --large | --quick]
[--profile] [--tracking-server] [--json OUT] [--side hpstudy|tune --side-out JSON]`.

N closed-form trials (benchmarks/driver_scale_trial.py: no training, so the driver is all there is to time) of
`lr_warmup_dropout`'s local profile (TPE + ASHA, a trial per core at a time) through hpstudy's real CLI, then
plain Ray Tune with the same sampler and scheduler (no MLflow), each in a process of its own, one after the other
in the same run. Printed: the seconds each spent per hundred trials (from its start to its 100th trial's end, then
from there to the 200th's, ...), the ratio, and with --profile where hpstudy's driver spends its time (its side
then runs under cProfile, which slows it: its seconds say so). `--tracking-server`: hpstudy logs to an MLflow server
on PostgreSQL, both started on loopback before its clock starts (benchmarks.tracking_server), not to SQLite.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import driver_scale_profile
from benchmarks.tracking_server import postgres_mlflow

SIDES = ("hpstudy", "tune")
TRIALS = 1_000  # the default run
LARGE = 10_000  # --large
QUICK = 100  # --quick
EPOCHS = 10  # per trial when ASHA keeps it: rungs at 1, 2, 4, 8


def per_bucket(start: float, ends: list[float], size: int) -> list[float]:
    """Seconds from `start` to the `size`-th end, then to the 2*size-th, ..., the last bucket to the last end (it
    may hold fewer): their sum is last end - start."""
    ends = sorted(ends)
    marks = [ends[i] for i in range(size - 1, len(ends), size)]
    if ends and (not marks or marks[-1] != ends[-1]):
        marks.append(ends[-1])
    return [b - a for a, b in zip([start, *marks], marks)]


def figures(sides: dict[str, dict[str, Any]], size: int) -> dict[str, Any]:
    """Per-bucket seconds of each side, their ratio hpstudy / tune, and the totals, from one run's timelines."""
    buckets = {name: per_bucket(side["start"], side["ends"], size) for name, side in sides.items()}
    totals = {name: side["ends"][-1] - side["start"] for name, side in sides.items()}
    walls = {name: side["returned"] - side["start"] for name, side in sides.items()}
    n = min(len(b) for b in buckets.values())
    return {"bucket": size, "trials": {name: len(side["ends"]) for name, side in sides.items()},
            "buckets": buckets, "ratios": [buckets["hpstudy"][i] / buckets["tune"][i] for i in range(n)],
            "totals": totals, "ratio": totals["hpstudy"] / totals["tune"], "walls": walls}


def table(fig: dict[str, Any]) -> list[str]:
    size, b = fig["bucket"], fig["buckets"]
    out = ["| trials | hpstudy s | plain Tune s | ratio |", "|---|---:|---:|---:|"]
    for i, ratio in enumerate(fig["ratios"]):
        out.append(f"| {i * size + 1}–{min((i + 1) * size, fig['trials']['hpstudy'])} | {b['hpstudy'][i]:.1f} "
                   f"| {b['tune'][i]:.1f} | {ratio:.1f} |")
    t = fig["totals"]
    out.append(f"| all {fig['trials']['hpstudy']} (start → last trial's end) | {t['hpstudy']:.1f} | {t['tune']:.1f} "
               f"| {fig['ratio']:.1f} |")
    w = fig["walls"]
    out.append(f"| start → the run returned | {w['hpstudy']:.1f} | {w['tune']:.1f} "
               f"| {w['hpstudy'] / w['tune']:.1f} |")
    return out


def run_side(side: str, trials: int, epochs: int, profile: bool, folder: Path,
             tracking_server: bool = False) -> dict[str, Any]:
    """One side in a child process (its own Ray, its own imports), its timeline read back from a JSON file."""
    out = folder / f"{side}.json"
    cmd = [sys.executable, "-m", "benchmarks.driver_scale", "--side", side, "--trials", str(trials),
           "--epochs", str(epochs), "--side-out", str(out), *(["--profile"] if profile else []),
           *(["--tracking-server"] if tracking_server else [])]
    child = folder / f"{side}.child.log"  # Ray's and Tune's own lines
    with open(child, "w") as log:
        code = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
    if code != 0:
        logs = [p for p in (child, out.with_suffix(".log")) if p.exists()]
        raise SystemExit(f"error: the {side} side failed; its output:\n"
                         + "\n".join(p.read_text()[-3000:] for p in logs))
    return json.loads(out.read_text())


def side_main(args: argparse.Namespace) -> None:
    """In the child: run one side in a scratch folder, write its timeline (and the profile's summary)."""
    from benchmarks import driver_scale_tune as sides

    folder = Path(tempfile.mkdtemp(prefix=f"driver_scale_{args.side}_"))
    run = sides.hpstudy_side if args.side == "hpstudy" else sides.tune_side
    try:
        with contextlib.ExitStack() as stack:
            server = {}
            if args.tracking_server and args.side == "hpstudy":  # started before the side's clock: not timed
                server["tracking_uri"] = stack.enter_context(postgres_mlflow(folder / "server"))
            if args.profile and args.side == "hpstudy":
                profiler = cProfile.Profile()
                result = run(args.trials, args.epochs, folder / "runs", folder / "output.log", profiler, **server)
                profiler.dump_stats(Path(args.side_out).with_suffix(".prof"))
                result["profile"] = driver_scale_profile.summarize(pstats.Stats(profiler))
            else:
                result = run(args.trials, args.epochs, folder / "runs", folder / "output.log", **server)
    finally:
        log = folder / "output.log"
        if log.exists():
            shutil.copy(log, Path(args.side_out).with_suffix(".log"))
        shutil.rmtree(folder, ignore_errors=True)
    Path(args.side_out).write_text(json.dumps(result))


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.driver_scale", description=__doc__.split("\n\n")[0])
    size = p.add_mutually_exclusive_group()
    size.add_argument("--trials", type=int, default=TRIALS, help=f"trials each side runs (default {TRIALS})")
    size.add_argument("--large", action="store_const", const=LARGE, dest="trials", help=f"{LARGE} trials")
    size.add_argument("--quick", action="store_const", const=QUICK, dest="trials", help=f"{QUICK} trials")
    p.add_argument("--epochs", type=int, default=EPOCHS, help=f"epochs of a trial ASHA keeps (default {EPOCHS})")
    p.add_argument("--bucket", type=int, default=100, help="trials per line of the table (default 100)")
    p.add_argument("--profile", action="store_true", help="run the hpstudy side under cProfile and summarize it")
    p.add_argument("--json", type=Path, metavar="OUT", help="write the figures (and timelines) here")
    p.add_argument("--tracking-server", action="store_true",
                   help="hpstudy logs to an MLflow server on PostgreSQL (benchmarks.tracking_server), not SQLite")
    p.add_argument("--side", choices=SIDES,
                   help="run this side alone (what each side's child process runs); its timeline goes to --side-out")
    p.add_argument("--side-out", metavar="JSON", help="with --side: where its timeline goes ({start, ends, returned})")
    args = p.parse_args(argv)
    if bool(args.side) != bool(args.side_out):
        p.error(f"--side and --side-out go together, but got ({args.side=}, {args.side_out=})")
    if args.trials < 1 or args.epochs < 1 or args.bucket < 1:
        p.error(f"--trials, --epochs and --bucket must be at least 1, but got ({args.trials=}, {args.epochs=}, "
                f"{args.bucket=})")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.side:
        side_main(args)
        return 0
    began = time.strftime("%Y-%m-%d %H:%M:%S")
    with tempfile.TemporaryDirectory(prefix="driver_scale_") as scratch:
        sides = {side: run_side(side, args.trials, args.epochs, args.profile, Path(scratch), args.tracking_server)
                 for side in SIDES}
        if args.profile and args.json:  # the raw profile, for pstats or snakeviz
            shutil.copy(Path(scratch) / "hpstudy.prof", args.json.with_suffix(".prof"))
    for name, side in sides.items():
        if len(side["ends"]) != args.trials:
            raise SystemExit(f"error: the {name} side ended {len(side['ends'])} trials of {args.trials}")
    fig = figures(sides, args.bucket)
    print(f"driver_scale, {began}: {args.trials} closed-form trials, {args.epochs} epochs, TPE + ASHA; hpstudy: "
          f"python -m studies.run {' '.join(sides['hpstudy']['command'])}"
          + (" (an MLflow server on PostgreSQL)" if args.tracking_server else "")
          + (" (under cProfile)" if args.profile else ""))
    print("\n".join(table(fig)))
    if "profile" in sides["hpstudy"]:
        print("\n".join(driver_scale_profile.lines(sides["hpstudy"]["profile"])))
    if args.json:
        args.json.write_text(json.dumps({"figures": fig, "sides": sides, "began": began}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
