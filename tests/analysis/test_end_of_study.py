"""`studies.tracking.closing_report.print_summary`, which closes every study: main table first, report written and logged, and a
figure or artifact that fails is a warning line, never a failed study. (Here because it is the analysis's caller.)"""

from __future__ import annotations

from types import SimpleNamespace

from mlflow.tracking import MlflowClient

from studies.tracking.closing_report import print_summary

# Only the attributes print_summary reads; a search: no baseline, best first.
SEARCH = SimpleNamespace(name="lr_search", profile="local", baseline=None, metric="val/acc", mode="max",
                         objectives=())


def test_search_summary_is_best_first_and_the_report_is_logged(store, capsys):
    print_summary(SEARCH, store.uri, store.search_parent)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "lr_search (local): 3 trials: 2 completed, 1 failed"
    rows = [ln for ln in lines if ln.startswith("| optim.lr")]
    assert lines.index(rows[0]) < min(i for i, ln in enumerate(lines) if ln.startswith("report: "))
    assert rows[0].startswith("| optim.lr=0.1 | 1 | 70.00 |") and rows[1].startswith("| optim.lr=0.01 | 1 (+1) |")
    out = store.tmp / "reports" / "lr_search" / store.search_parent  # next to the SQLite store
    assert {"table.md", "learning_curves.png", "val_acc_vs_optim.lr.png"} <= {p.name for p in out.iterdir()}
    logged = {a.path for a in MlflowClient(tracking_uri=store.uri).list_artifacts(store.search_parent, "report")}
    assert "report/table.md" in logged and "report/learning_curves.png" in logged


def test_a_failing_plot_is_one_warning_line(store, capsys, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("analysis.outputs.plot_learning_curves", boom)
    print_summary(SEARCH, store.uri, store.search_parent)
    out = capsys.readouterr().out
    assert "warning: plots not drawn: learning_curves.png (RuntimeError: boom)" in out
    assert "| optim.lr=0.1 |" in out and "report: " in out  # the table and the other files still came


def test_a_failing_artifact_store_is_one_warning_line(store, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("artifact store unreachable")

    monkeypatch.setattr(MlflowClient, "log_artifact", refuse)
    print_summary(SEARCH, store.uri, store.search_parent)
    out = capsys.readouterr().out
    assert "warning: report not written or not logged: OSError: artifact store unreachable" in out


def test_a_metric_never_logged_is_a_line_not_a_crash(store, capsys):
    print_summary(SimpleNamespace(**{**vars(SEARCH), "metric": "val/loss"}), store.uri, store.search_parent)
    out = capsys.readouterr().out.strip()
    assert out.startswith("lr_search (local): no table: metric 'val/loss' never logged") and "val/acc" in out
