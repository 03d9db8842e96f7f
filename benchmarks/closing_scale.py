"""What a study's end costs as it grows: `python -m benchmarks.closing_scale [--runs N] [--store FOLDER]`.

Builds (once per FOLDER) an MLflow store shaped like `benchmarks.driver_scale`'s hpstudy side after N closed-form
trials of `lr_warmup_dropout` (a parent run; trial runs with the driver's tags, params, config.yaml, history.csv and
their epochs, most stopped by ASHA at epoch 1, 2 or 4), through the tracker a study logs with; then times the steps a
finished study takes at its end, as `studies.cli.execute._close` takes them: one read of the trial runs, the
outcome and summary from it, the parent run's end, and the closing report (tables, plots, logged). The timed steps
write to a copy of the store, so a second run times the same store again.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

STUDY = "lr_warmup_dropout"
RUNS = 4_000
STOPS = (1, 1, 1, 1, 2, 2, 4, 10)  # the epoch each trial ends at, drawn uniformly: 10 completed, else ASHA


def build(folder: Path, runs: int, seed: int = 0) -> None:
    from benchmarks.driver_scale_trial import accuracy
    from hpstudy.schema import statuses
    from studies.tracking.tracker import StudyTracker

    folder.mkdir(parents=True, exist_ok=True)
    tracker = StudyTracker(f"sqlite:///{folder / 'mlflow.db'}", STUDY, artifact_root=folder / "artifacts").prepare()
    parent = tracker.start_study(f"{STUDY} local", {}, {"study.metric": "val/acc", "study.mode": "max"})
    rng = random.Random(seed)
    for i in range(runs):
        lr, drop, warmup, wd = 10 ** rng.uniform(-3, math.log10(0.5)), rng.uniform(0, 0.3), rng.randint(0, 1), \
            10 ** rng.uniform(-5, -3)
        trial = f"closing_{i:05d}"
        tracker.trial_started(trial, name=f"lr={lr:.3g} warmup={warmup} drop={drop:.3g} wd={wd:.3g}", seed=0,
                              params={"optim.lr": lr, "sched.warmup_epochs": warmup, "model.drop_rate": drop,
                                      "optim.weight_decay": wd, "seed": 0, "epochs": 10},
                              config={"optim": {"lr": lr, "weight_decay": wd}, "epochs": 10})
        stop = rng.choice(STOPS)
        for epoch in range(1, stop + 1):
            acc = accuracy(lr, drop, warmup, epoch)
            metrics = {"epoch": epoch, "train/loss": 1 - acc, "train/acc": min(1.0, acc + 0.02), "val/acc": acc,
                       "val/loss": -math.log(acc)}
            if epoch == 10:
                metrics.update({"test/acc": acc - 0.01, "test/loss": -math.log(acc - 0.01), "test/epoch": epoch})
            tracker.trial_metrics(trial, metrics, epoch)
        if stop == 10:
            tracker.trial_ended(trial, statuses.COMPLETED)
        else:
            tracker.trial_ended(trial, statuses.EARLY_STOPPED, f"stopped by ASHA at epoch {stop}", stop)
    tracker.flush()
    (folder / "parent").write_text(parent)


def time_end(folder: Path) -> dict[str, float]:
    """Seconds of each step of a finished study's end on the store in `folder` (written to as a study's end does)."""
    from studies.assembly.assemble import build_study
    from studies.catalog import lr_warmup_dropout
    from studies.cli.exit_status import Outcome
    from studies.tracking.closing_report import print_summary
    from studies.tracking.tracker import StudyTracker
    from studies.tracking.trial_reads import trial_outcomes

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    study = build_study(lr_warmup_dropout, "local", {}, None)
    tracker = StudyTracker(uri, STUDY, artifact_root=folder / "artifacts")
    tracker.parent_run_id = (folder / "parent").read_text()
    times: dict[str, float] = {}

    def step(name, work):
        start = time.perf_counter()
        out = work()
        times[name] = time.perf_counter() - start
        return out

    runs = step("read the trial runs (one search)", tracker.trial_runs)
    outcome, summary = step("outcome and summary", lambda: (Outcome.of(trial_outcomes(runs)),
                                                            tracker.summarize(study.metric, study.mode, runs)))
    step("end the parent run (summary, best tag)", lambda: tracker.end_study(outcome.status, outcome.tags(), summary,
                                                                             runs))
    with contextlib.redirect_stdout(io.StringIO()):
        step("closing report (tables, 17 plots, logged)", lambda: print_summary(study, uri, tracker.parent_run_id,
                                                                                  runs))
    return times


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.closing_scale", description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=RUNS, help=f"trial runs in the store (default {RUNS})")
    p.add_argument("--store", type=Path, help="folder to build the store in once and keep (default: a scratch one)")
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error(f"--runs must be at least 1, but got {args.runs}")
    with tempfile.TemporaryDirectory(prefix="closing_scale_") as scratch:
        store = args.store or Path(scratch) / "store"
        if not (store / "parent").exists():
            began = time.perf_counter()
            build(store, args.runs)
            print(f"built {args.runs} trial runs in {store} in {time.perf_counter() - began:.0f} s", file=sys.stderr)
        work = Path(scratch) / "work"
        shutil.copytree(store, work)
        times = time_end(work)
    print(f"a study's end over {args.runs} trial runs (MLflow on SQLite):")
    print("| step | s |\n|---|---:|")
    for name, seconds in times.items():
        print(f"| {name} | {seconds:.1f} |")
    print(f"| all | {sum(times.values()):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
