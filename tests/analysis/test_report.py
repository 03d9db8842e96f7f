"""`python -m analysis.report` on a store filled with known runs: table values, files, artifacts and bad input."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from scipy import stats

from analysis.report import main

FILES = {"table.md", "table.tex", "table.csv", "overhead.md", "overhead.csv", "trials.csv", "pareto.md",
         "pareto.png", "learning_curves.png", "val_acc_vs_ses.beta.png", "val_acc_best_vs_ses.beta.png",
         "rob_acc_vs_ses.beta.png", "gap_vs_ses.beta.png", "robustness.png"}


def run_main(argv: list[str]) -> SimpleNamespace:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return SimpleNamespace(rc=rc, out=out.getvalue(), err=err.getvalue())


@pytest.fixture(scope="module")
def report(store, tmp_path_factory):
    """The default report of the newer ses_beta_sweep invocation, written and logged once."""
    out = tmp_path_factory.mktemp("report")
    result = run_main(["ses_beta_sweep", "--tracking-uri", store.uri, "--out", str(out)])
    assert result.rc == 0, result.err
    return SimpleNamespace(dir=out, stdout=result.out)


def test_every_file_is_written_and_logged_on_the_parent_run(report, store):
    written = {p.name for p in report.dir.iterdir()}
    assert written == FILES
    assert all((report.dir / name).stat().st_size > 0 for name in FILES)
    logged = MlflowClient(tracking_uri=store.uri).list_artifacts(store.parent, "report")
    assert {a.path for a in logged} == {f"report/{name}" for name in FILES}
    assert f"report: {report.dir} ({len(FILES)} files)" in report.stdout


def test_table_values_are_the_known_numbers(report, store):
    csv = pd.read_csv(report.dir / "table.csv", keep_default_na=False, na_values=[""]).set_index(["metric", "config"])
    # the defaults that were logged
    assert set(csv.index.get_level_values("metric")) == {"val/acc", "val/acc_best", "rob/acc", "gap"}
    base = np.array([store.val_acc("baseline", s)[-1] for s in range(3)])
    x = np.array([store.val_acc("beta=0.5", s)[-1] for s in range(3)])
    row = csv.loc[("val/acc", "beta=0.5")]
    assert row["n"] == 3 and row["mean"] == pytest.approx(x.mean()) and row["std"] == pytest.approx(x.std(ddof=1))
    assert row["p"] == pytest.approx(stats.ttest_rel(x, base).pvalue)
    rob = np.array([store.rob("beta=0.5", s)["rob/acc"] for s in range(3)])
    assert csv.loc[("rob/acc", "beta=0.5"), "mean"] == pytest.approx(rob.mean())
    assert csv.loc[("gap", "beta=0.5"), "mean"] == pytest.approx(np.mean([store.gap(s) for s in range(3)]))
    assert csv.loc[("val/acc", "beta=0.9"), "flag"] == "n<3; unpaired seeds: 4 here, 2 in baseline"


def test_markdown_latex_overhead_and_pareto_say_the_same(report):
    md = (report.dir / "table.md").read_text()
    assert "| baseline | 3 (+1) | 91.00 ± 1.00 |" in md and "## rob/acc" in md
    assert md in report.stdout  # the CLI prints the table it wrote
    tex = (report.dir / "table.tex").read_text()
    assert all(rule in tex for rule in (r"\toprule", r"\midrule", r"\bottomrule"))
    assert r"\textbf{94.00 $\pm$ 1.00}" in tex  # beta=0.9's val/acc: the best mean, bold
    assert r"91.00 $\pm$ 1.00" in tex and "n\\textless{}3" in tex
    overhead = pd.read_csv(report.dir / "overhead.csv", index_col="config")
    assert overhead.loc["beta=0.3", "sys/epoch_s/mean/rel"] == pytest.approx(0.2)
    assert overhead.loc["baseline", "sys/peak_mem_mb/max"] == pytest.approx(500)
    assert overhead.loc["beta=0.3", "sys/epoch_s/mean/rel_paired"] == pytest.approx(0.2)
    assert "1.20 (+20% [+20%, +20%])" in (report.dir / "overhead.md").read_text()  # every seed's ratio is 1.2
    pareto = (report.dir / "pareto.md").read_text().splitlines()[0]
    assert pareto.endswith("(val/acc ↑, rob/acc ↑, sys/epoch_s/mean ↓): baseline, beta=0.9")


def test_chosen_metrics_objectives_and_no_log(store, tmp_path):
    result = run_main(["--parent-run-id", store.parent, "--tracking-uri", store.uri, "--out", str(tmp_path),
                       "--metrics", "val/acc_best", "--objectives", "val/acc_best:max,sys/trial_s:min", "--no-log"])
    assert result.rc == 0, result.err
    assert "## val/acc_best" in (tmp_path / "table.md").read_text() and "logged to run" not in result.out
    assert "(val/acc_best ↑, sys/trial_s ↓)" in (tmp_path / "pareto.md").read_text()


@pytest.mark.parametrize("args, names", [
    (["nope"], ["'nope'", "ses_beta_sweep", "lr_search"]),
    (["ses_beta_sweep", "--baseline", "beta=7"], ["'beta=7'", "baseline", "beta=0.3", "beta=0.9"]),
    (["ses_beta_sweep", "--metrics", "val/acc,rob/ac"], ["'rob/ac'", "rob/acc", "val/acc", "gap"]),
    (["ses_beta_sweep", "--objectives", "val/acc:up,gap:min"], ["METRIC:max"]),
])
def test_bad_input_is_one_line_listing_what_exists(store, tmp_path, args, names):
    result = run_main([*args, "--tracking-uri", store.uri, "--out", str(tmp_path), "--no-log"])
    assert result.rc == 2 and result.out == ""
    assert result.err.startswith("error: ") and result.err.count("\n") == 1
    assert all(name in result.err for name in names), result.err
    assert not list(tmp_path.iterdir())  # nothing written


def test_missing_default_store_is_an_error_not_a_new_database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_main(["ses_beta_sweep"])
    assert result.rc == 2 and "no MLflow store at" in result.err and "hpstudy_runs" in result.err
    assert not (tmp_path / "hpstudy_runs").exists()


def test_exit_code_as_a_command(store, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "analysis.report", "nope", "--tracking-uri", store.uri],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [proc.stderr.strip()] and "studies in this store" in proc.stderr
