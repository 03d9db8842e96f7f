"""Write a `Report` to a folder (Markdown, LaTeX, CSV, PNG) and log that folder on the study's MLflow parent run.

Tables are written before plots, so a figure that fails never costs the numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from mlflow.tracking import MlflowClient

from analysis.curves import MAX_CONFIGS, corruption_columns, plot_learning_curves, plot_robustness
from analysis.formats import format_latex
from analysis.load import load_history
from analysis.plots import plot_hypervolume, plot_pareto, plot_vs_param
from analysis.report_content import Report
from analysis.tables import summary_long, swept_params

ARTIFACT_PATH = "report"  # folder of the parent run's artifacts that holds the report
CURVE_KEYS = ("val/acc", "train/loss")  # learning-curve panels, those that were logged

OnError = Callable[[str, Exception], None]


def _raise(name: str, err: Exception) -> None:
    raise err


def file_stem(name: str) -> str:
    """"val/acc" -> "val_acc": metric keys hold slashes, file names cannot."""
    return re.sub(r"[^\w.=-]+", "_", name)


def write_tables(report: Report, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    texts = {"table.md": report.markdown(), "table.tex": format_latex(report.tables, report.metric_table, report.study),
             "overhead.md": report.overhead_markdown()}
    if report.pareto is not None:
        texts["pareto.md"] = report.pareto_markdown()
    if report.hypervolume is not None:
        texts["hypervolume.md"] = report.hypervolume_markdown()
    written = []
    for name, text in texts.items():
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)
    summary_long(report.tables).to_csv(out / "table.csv", index=False)
    report.overhead.to_csv(out / "overhead.csv")
    report.trials.to_csv(out / "trials.csv", index=False)  # every trial, for plots the report does not make
    written += [out / "table.csv", out / "overhead.csv", out / "trials.csv"]
    if report.hypervolume is not None:
        report.hypervolume.to_csv(out / "hypervolume.csv", index=False)
        written.append(out / "hypervolume.csv")
    return written


def _plots(report: Report, out: Path, tracking_uri: str | None) -> dict[str, Callable[[], Path]]:
    """name -> a function drawing that figure; only figures the study's data supports."""
    r, plots = report, {}
    if r.pareto is not None:
        title = f"{r.study}: Pareto front (means over seeds)"
        plots["pareto.png"] = lambda: plot_pareto(r.pareto, out / "pareto.png", title, r.baseline, r.configs,
                                                  metric_table=r.metric_table)
    if r.hypervolume is not None:
        plots["hypervolume.png"] = lambda: plot_hypervolume(r.hypervolume, out / "hypervolume.png",
                                                            f"{r.study}: hypervolume against epochs spent")
    keys = [k for k in CURVE_KEYS if k in r.trials.columns]
    if keys:
        def curves() -> Path:
            shown = r.configs[:MAX_CONFIGS]
            runs = r.trials[r.trials["status"].isin(r.statuses) & r.trials["config"].isin(shown)]["run_id"]
            history = load_history(list(runs), keys, tracking_uri=tracking_uri)
            return plot_learning_curves(history, r.trials[r.trials["status"].isin(r.statuses)], r.configs, keys,
                                        out / "learning_curves.png", r.baseline, metric_table=r.metric_table)
        plots["learning_curves.png"] = curves
    swept = swept_params(r.trials, r.baseline)
    for param, values in swept.items():
        for metric, table in r.tables.items():
            name = f"{file_stem(metric)}_vs_{file_stem(param)}.png"
            plots[name] = lambda t=table, v=values, p=param, n=name: plot_vs_param(
                r.trials, t, v, p, out / n, connect=len(swept) == 1, metric_table=r.metric_table)
    columns = corruption_columns(r.trials)
    if columns:
        plots["robustness.png"] = lambda: plot_robustness(r.trials, r.configs, columns, out / "robustness.png",
                                                          r.baseline, r.statuses)
    return plots


def write_report(report: Report, out: Path, *, tracking_uri: str | None = None,
                 on_plot_error: OnError = _raise) -> list[Path]:
    """Every output file, tables first; a plot that raises goes to `on_plot_error` (default: re-raise)."""
    written = write_tables(report, out)
    for name, draw in _plots(report, out, tracking_uri).items():
        try:
            written.append(draw())
        except Exception as err:  # noqa: BLE001 -- the caller decides whether a figure may fail
            on_plot_error(name, err)
    return written


def log_report(files: list[Path], parent_run_id: str, tracking_uri: str | None = None) -> str:
    """Log `files` as artifacts of the parent run under `report/`; returns where they went.

    File by file rather than `log_artifacts(folder)`: a reused --out folder may hold files of an older report.
    """
    client = MlflowClient(tracking_uri=tracking_uri)
    for path in files:
        client.log_artifact(parent_run_id, str(path), artifact_path=ARTIFACT_PATH)
    return f"{client.get_run(parent_run_id).info.artifact_uri}/{ARTIFACT_PATH}"
