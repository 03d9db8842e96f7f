"""Multi-seed tables: honest counts, mean/std as numpy computes them, deltas, ordering and Markdown."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import AnalysisError, format_markdown, multiseed_table


def test_counts_mean_std_delta(trials, store):
    table = multiseed_table(trials, "val/acc", baseline="baseline")
    assert list(table.index) == ["baseline", "beta=0.3"]
    assert list(table["n"]) == [3, 3] and list(table["n_other"]) == [1, 1]
    finals = {c: np.array([store.val_acc(c, s)[-1] for s in range(3)]) for c in table.index}
    for config, x in finals.items():
        assert table.loc[config, "mean"] == pytest.approx(x.mean())
        assert table.loc[config, "std"] == pytest.approx(x.std(ddof=1))
    assert table.loc["baseline", "delta"] == 0
    assert table.loc["beta=0.3", "delta"] == pytest.approx(finals["beta=0.3"].mean() - finals["baseline"].mean())


def test_statuses_choose_what_counts(trials):
    table = multiseed_table(trials, "val/acc", statuses=("completed", "early_stopped"))
    assert table.loc["baseline", "n"] == 4 and table.loc["baseline", "n_other"] == 0
    assert "delta" not in table.columns


def test_errors_are_one_line_and_list_what_exists(trials):
    with pytest.raises(AnalysisError) as err:
        multiseed_table(trials, baseline="beta=9")
    assert "\n" not in str(err.value) and "baseline" in str(err.value) and "beta=0.3" in str(err.value)
    with pytest.raises(AnalysisError) as err:
        multiseed_table(trials, "val/ac")
    msg = str(err.value)
    assert "\n" not in msg and "val/acc" in msg and "train/loss" in msg and "param." not in msg


def _frame(rows):
    return pd.DataFrame(rows, columns=["config", "status", "val/acc"])


def test_single_seed_and_empty_configs_keep_rows_in_natural_order():
    trials = _frame([("beta=1.0", "completed", 0.9), ("beta=0.3", "completed", 0.8), ("beta=0.3", "completed", 0.82),
                     ("beta=0.05", "failed", np.nan), ("baseline", "completed", 0.85)])
    table = multiseed_table(trials, baseline="baseline")
    assert list(table.index) == ["baseline", "beta=0.05", "beta=0.3", "beta=1.0"]
    assert np.isnan(table.loc["beta=1.0", "std"])  # n=1: no spread to report
    assert table.loc["beta=0.05", "n"] == 0 and table.loc["beta=0.05", "n_other"] == 1
    assert np.isnan(table.loc["beta=0.05", "mean"])


def test_markdown(trials):
    md = format_markdown(multiseed_table(trials, baseline="baseline"), "val/acc")
    lines = md.splitlines()
    assert "completed" in lines[0]
    rows = [ln for ln in lines if ln.startswith("| ") and not ln.startswith("| config")]
    assert lines[2] == "| config | n | val/acc (%) | Δ vs baseline (pp) |"
    assert rows[0] == "| baseline | 3 (+1) | 91.00 ± 1.00 | — |"
    assert rows[1] == "| beta=0.3 | 3 (+1) | 93.00 ± 2.00 | +2.00 |"


def test_markdown_without_baseline_or_spread():
    table = multiseed_table(_frame([("a|b", "completed", 0.5)]))
    md = format_markdown(table, "val/acc")
    assert "Δ" not in md and "| a\\|b | 1 | 50.00 |" in md
