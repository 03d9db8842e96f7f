"""How fast the CLI answers and a study starts: `python -m benchmarks.cli_start [--repo DIR ...] [--repeats N]`.

For each checkout (`--repo`, default this one; give two to compare, e.g. a worktree of an older commit), alternated
`--repeats` times: the wall-clock of `--help`, `--list` and `--dry-run`, and for a real run of `--study` (local
profile, a fresh runs folder) the seconds from the command's start to its first trial's MLflow run (what
`benchmarks.platform_overhead` calls "CLI → 1st trial") and to that trial's first epoch logged. The run is stopped
with SIGTERM once its first epoch is logged. Prints each figure's median and, with two checkouts, the ratio of
their medians from this one run (this machine is noisy: compare within a run).
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hpstudy.schema.locations import MLFLOW_DB

HERE = Path(__file__).resolve().parents[1]
FIGURES = ("help_s", "list_s", "dry_run_s", "first_trial_s", "first_epoch_s")
TRIAL_START = ("select min(r.start_time) from runs r join tags t on t.run_uuid = r.run_uuid "
               "where t.key = 'hpstudy.role' and t.value = 'trial'")
FIRST_EPOCH = "select min(timestamp) from metrics where key = 'train/loss'"


def _env(repo: Path) -> dict[str, str]:
    """The checkout's code first on the path, for the CLI and the Ray workers it starts (they inherit it)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")]))}


def _timed(repo: Path, args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "studies.run", *args], cwd=repo, env=_env(repo), check=True,
                   capture_output=True)
    return time.perf_counter() - start


def _query(db: Path, sql: str) -> float | None:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            value = con.execute(sql).fetchone()[0]
    except sqlite3.Error:  # not created yet, or its tables not yet
        return None
    return value / 1000 if value is not None else None


def _start(repo: Path, study: str, timeout_s: float) -> tuple[float, float]:
    """(seconds to the first trial's run, to its first epoch logged) of a real run, stopped after that epoch."""
    with tempfile.TemporaryDirectory(prefix="cli_start_") as tmp:
        runs = Path(tmp) / "runs"
        start = time.time()
        proc = subprocess.Popen([sys.executable, "-m", "studies.run", study, "--profile", "local", "--runs-dir",
                                 str(runs)], cwd=repo, env=_env(repo), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        trial = epoch = None
        try:
            while epoch is None:
                if proc.poll() is not None:
                    raise SystemExit(f"error: the run exited {proc.returncode} before its first epoch:\n"
                                     f"{proc.stderr.read()[-2000:]}")
                if time.time() - start > timeout_s:
                    raise SystemExit(f"error: no epoch logged within {timeout_s:g} s")
                time.sleep(0.1)
                trial = trial or _query(runs / MLFLOW_DB, TRIAL_START)
                epoch = _query(runs / MLFLOW_DB, FIRST_EPOCH)
        finally:
            proc.send_signal(signal.SIGTERM)  # hpstudy stops as on Ctrl-C: Tune saves its state, Ray shuts down
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return trial - start, epoch - start


def measure(repo: Path, study: str, timeout_s: float) -> dict[str, float]:
    first_trial, first_epoch = _start(repo, study, timeout_s)
    return {"help_s": _timed(repo, ["--help"]), "list_s": _timed(repo, ["--list"]),
            "dry_run_s": _timed(repo, [study, "--dry-run"]), "first_trial_s": first_trial,
            "first_epoch_s": first_epoch}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repo", type=Path, action="append", help="a checkout to run (repeatable; default: this one)")
    p.add_argument("--study", default="ses_beta_sweep")
    p.add_argument("--repeats", type=int, default=3, help="rounds, each checkout once per round")
    p.add_argument("--timeout", type=float, default=300, help="seconds a run may take to log its first epoch")
    args = p.parse_args(argv)
    repos = [r.resolve() for r in (args.repo or [HERE])]
    missing = [str(r) for r in repos if not (r / "studies" / "run.py").is_file()]
    if missing or args.repeats < 1:
        print(f"error: --repo {', '.join(missing) or '-'}: expected a checkout holding studies/run.py; "
              "--repeats >= 1", file=sys.stderr)
        return 2
    figures: dict[Path, list[dict[str, float]]] = {r: [] for r in repos}
    for round_ in range(args.repeats):
        for repo in repos:
            figures[repo].append(measure(repo, args.study, args.timeout))
            shown = ", ".join(f"{k} {v:.2f}" for k, v in figures[repo][-1].items())
            print(f"round {round_ + 1}, {repo}: {shown}", file=sys.stderr, flush=True)
    medians = {r: {k: statistics.median(f[k] for f in figures[r]) for k in FIGURES} for r in repos}
    print(f"{args.study}, local profile; median of {args.repeats} on {os.cpu_count()} cores (seconds)")
    print("| checkout | " + " | ".join(FIGURES) + " |")
    print("|---|" + "---:|" * len(FIGURES))
    for repo in repos:
        print(f"| {repo} | " + " | ".join(f"{medians[repo][k]:.2f}" for k in FIGURES) + " |")
    if len(repos) == 2:
        a, b = repos
        print(f"| ratio {b.name} / {a.name} | "
              + " | ".join(f"{medians[b][k] / medians[a][k]:.2f}" for k in FIGURES) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
