"""`python -m analysis.report STUDY`: a study's tables, overhead, Pareto front and plots, written and logged.

The files land in `--out` and on the study's MLflow parent run (artifacts, folder `report/`); bad input is one
`error: ...` line on stderr that lists what exists, exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from analysis.load import AnalysisError, load_trials
from analysis.outputs import ARTIFACT_PATH, OnError, log_report, write_report
from analysis.pareto import parse_objectives
from analysis.report_content import Report, build_report
from hpstudy.schema.locations import RUNS_DIR, default_tracking_uri, sqlite_path
from hpstudy.schema.tags import BASELINE

EXIT_BAD_INPUT = 2


def check_store(tracking_uri: str) -> None:
    # MLflow would create an empty database at a mistyped path and then report "no such study".
    path = sqlite_path(tracking_uri)
    if path is not None and not path.is_file():
        raise AnalysisError(f"no MLflow store at {path}; run from the folder holding {RUNS_DIR}/ "
                            "or pass --tracking-uri")


def default_out(tracking_uri: str, study: str, parent_run_id: str) -> Path:
    """`reports/<study>/<parent run id>/` next to the SQLite store (hpstudy_runs/), else under ./hpstudy_runs."""
    path = sqlite_path(tracking_uri)
    root = path.resolve().parent if path is not None else RUNS_DIR.resolve()
    return root / "reports" / study / parent_run_id


@dataclass
class Written:
    report: Report
    out: Path
    files: list[Path]
    artifact_uri: str | None  # None when not logged


def make_report(
    study: str | None = None,
    *,
    parent_run_id: str | None = None,
    tracking_uri: str | None = None,
    baseline: str | None = None,
    metrics: list[str] | None = None,
    objectives: list[tuple[str, str]] | None = None,
    mode: str | None = None,
    out: Path | None = None,
    log: bool = True,
    on_plot_error: OnError | None = None,
) -> Written:
    """Load the study, build its report, write it to `out` and (with `log`) onto its parent run.

    `baseline` defaults to the parent run's hpstudy.baseline tag; `metrics` to `build.default_metrics`.
    """
    tracking_uri = tracking_uri or default_tracking_uri()
    check_store(tracking_uri)
    trials = load_trials(study, parent_run_id=parent_run_id, tracking_uri=tracking_uri)
    report = build_report(trials, baseline=baseline or trials.attrs.get("baseline"), metrics=metrics,
                          objectives=objectives, mode=mode)
    out = out or default_out(tracking_uri, report.study, report.parent_run_id)
    kwargs = {"on_plot_error": on_plot_error} if on_plot_error else {}
    files = write_report(report, out, tracking_uri=tracking_uri, **kwargs)
    uri = log_report(files, report.parent_run_id, tracking_uri) if log else None
    return Written(report, out, files, uri)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m analysis.report", description=__doc__.splitlines()[0])
    p.add_argument("study", nargs="?", help="study name (its most recent invocation); or give --parent-run-id")
    p.add_argument("--parent-run-id", help="a specific invocation: the study's MLflow parent run")
    p.add_argument("--tracking-uri", help="MLflow store (default: sqlite:///$PWD/hpstudy_runs/mlflow.db)")
    p.add_argument("--baseline", help=f"config to compare against (default: the study's {BASELINE} tag)")
    p.add_argument("--metrics", help="comma-separated, e.g. val/acc,rob/acc,gap (default: those of "
                                     "val/acc, val/acc_best, rob/acc, gap that were logged)")
    p.add_argument("--objectives",
                   help="2 or 3 METRIC:max|min for the Pareto front, e.g. val/acc:max,sys/epoch_s/mean:min")
    p.add_argument("--out", type=Path, help="output folder (default: hpstudy_runs/reports/<study>/<parent run id>)")
    p.add_argument("--no-log", action="store_true", help="write the files only; do not log them to MLflow")
    return p.parse_args(argv)


def _split(arg: str | None) -> list[str] | None:
    return [s.strip() for s in arg.split(",") if s.strip()] if arg else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.study is None and args.parent_run_id is None:
            raise AnalysisError("name a study or give --parent-run-id")
        objectives = parse_objectives(_split(args.objectives)) if args.objectives else None
        done = make_report(args.study, parent_run_id=args.parent_run_id, tracking_uri=args.tracking_uri,
                           baseline=args.baseline, metrics=_split(args.metrics), objectives=objectives,
                           out=args.out, log=not args.no_log)
    except AnalysisError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    r = done.report
    print(r.markdown())
    print(r.overhead_markdown())
    if r.pareto is not None:
        print(r.pareto_markdown())
    if r.hypervolume is not None:
        print(r.hypervolume_markdown())
    print(f"report: {done.out} ({len(done.files)} files)")
    if done.artifact_uri:
        print(f"logged to run {r.parent_run_id} under {ARTIFACT_PATH}/: {done.artifact_uri}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
