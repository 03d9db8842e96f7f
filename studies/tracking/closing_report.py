"""The report that closes a study: the lead metric's multi-seed table printed, the full report written and logged.

A report that cannot be drawn or logged is a warning line, never a failed study: the trials are already in MLflow.
"""

from __future__ import annotations

from analysis import AnalysisError, build_report, load_trials
from analysis.report_content import default_metrics
from studies.study import Study


def print_summary(study: Study, tracking_uri: str, parent_run_id: str, runs: list | None = None) -> None:
    """`runs`: the study's trial runs as the driver read them (studies.tracking.tracker.StudyTracker.trial_runs),
    not searched for again."""
    try:
        trials = load_trials(parent_run_id=parent_run_id, tracking_uri=tracking_uri, children=runs)
        # A search (no baseline) comes back best first in the study's own mode.
        report = build_report(trials, baseline=study.baseline, metrics=default_metrics(trials, study.metric),
                              mode=study.mode, objectives=study.objectives or None)
    except AnalysisError as err:  # e.g. every trial failed before logging the study metric
        print(f"\n{study.name} ({study.profile}): no table: {err}")
        return
    if report.confirmation is not None:  # a search's confirmation leads: its best value is optimistic
        c = report.confirmation
        print(f"\n{study.name} ({study.profile}), confirmation on fresh seeds: {c.counts()}")
        print(c.main_table())
        if c.test_summary():
            print(c.test_summary())
        print(report.confirmation_gap() or "")
        print("\nthe search's own table (its best is the maximum of noisy values: optimistic):")
    print(f"\n{study.name} ({study.profile}): {report.counts()}")
    for line in report.protocol_lines():
        print(line)
    print(report.main_table())
    if report.test_summary():
        print(report.test_summary())
    for line in report.terminal_lines():
        print(line)
    failed: list[str] = []
    try:
        # here, not at the top: matplotlib would slow every `python -m studies.run` start, --list included
        from analysis.outputs import log_report, write_report
        from analysis.report import default_out

        out = default_out(tracking_uri, study.name, parent_run_id)
        files = write_report(report, out, tracking_uri=tracking_uri,
                             on_plot_error=lambda name, err: failed.append(f"{name} ({type(err).__name__}: {err})"))
        log_report(files, parent_run_id, tracking_uri)
        print(f"report: {out} ({len(files)} files, also on the study's MLflow run under report/)")
    except Exception as err:  # noqa: BLE001 -- the study itself succeeded; say what is missing and go on
        print(f"warning: report not written or not logged: {type(err).__name__}: {err}")
    if failed:
        print(f"warning: plots not drawn: {'; '.join(failed)}")
