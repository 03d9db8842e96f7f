"""Multi-seed tables: honest counts, mean/std/CI and the paired comparison as scipy computes them, flags, Markdown."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import AnalysisError, format_markdown, multiseed_table, swept_params
from analysis.stats import detectable_effect
from hpstudy.schema.metrics import METRICS


def _finals(store, config, seeds):
    return np.array([store.val_acc(config, s)[-1] for s in seeds])


@pytest.fixture(scope="module")
def table(trials):
    return multiseed_table(trials, "val/acc", baseline="baseline")


def test_counts_mean_std_ci_delta(table, store):
    assert list(table.index) == ["baseline", "beta=0.3", "beta=0.5", "beta=0.9"]
    assert list(table["n"]) == [3, 3, 3, 3] and list(table["n_other"]) == [1, 1, 0, 0]
    seeds = {"baseline": range(3), "beta=0.3": range(3), "beta=0.5": range(3), "beta=0.9": (0, 1, 4)}
    for config, s in seeds.items():
        x = _finals(store, config, s)
        assert table.loc[config, "mean"] == pytest.approx(x.mean())
        assert table.loc[config, "std"] == pytest.approx(x.std(ddof=1))
        low, high = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        assert (table.loc[config, "ci_low"], table.loc[config, "ci_high"]) == pytest.approx((low, high))
    assert table.loc["baseline", "delta"] == 0
    base = _finals(store, "baseline", range(3))
    assert table.loc["beta=0.3", "delta"] == pytest.approx(_finals(store, "beta=0.3", range(3)).mean() - base.mean())


def test_paired_columns_equal_scipy_on_matching_seeds(table, store):
    base = _finals(store, "baseline", range(3))
    for config in ("beta=0.3", "beta=0.5"):
        x = _finals(store, config, range(3))
        row = table.loc[config]
        ref = stats.ttest_rel(x, base)
        assert row["n_pairs"] == 3 and row["flag"] == ""
        assert (row["t"], row["p"]) == pytest.approx((ref.statistic, ref.pvalue))
        d = x - base
        assert row["d_z"] == pytest.approx(d.mean() / d.std(ddof=1))
        assert row["delta_ci_low"] <= d.mean() <= row["delta_ci_high"]
        assert row["var_ratio"] == pytest.approx(x.var(ddof=1) / base.var(ddof=1))


def test_too_few_pairs_or_unpaired_seeds_are_flagged_not_tested(table):
    row = table.loc["beta=0.9"]  # seeds 0, 1, 4 against the baseline's 0, 1, 2
    assert row["n_pairs"] == 2
    assert row["flag"] == "n<3; unpaired seeds: 4 here, 2 in baseline"
    assert row[["t", "p", "delta_ci_low", "delta_ci_high", "d_z"]].isna().all()
    assert not np.isnan(row["delta"]) and not np.isnan(row["var_ratio"])  # descriptive numbers stay
    assert pd.isna(table.loc["baseline", "n_pairs"]) and table.loc["baseline", "flag"] == ""


def test_bootstrap_is_reproducible_and_seeded(trials):
    a = multiseed_table(trials, "val/acc", baseline="baseline", seed=1)
    b = multiseed_table(trials, "val/acc", baseline="baseline", seed=1)
    pd.testing.assert_frame_equal(a, b)


def test_statuses_choose_what_counts(trials):
    table = multiseed_table(trials, "val/acc", statuses=("completed", "early_stopped"))
    assert table.loc["baseline", "n"] == 4 and table.loc["baseline", "n_other"] == 0
    assert "delta" not in table.columns and "flag" not in table.columns


def test_errors_are_one_line_and_list_what_exists(trials):
    with pytest.raises(AnalysisError) as err:
        multiseed_table(trials, baseline="beta=9")
    assert "\n" not in str(err.value) and "baseline" in str(err.value) and "beta=0.3" in str(err.value)
    with pytest.raises(AnalysisError) as err:
        multiseed_table(trials, "val/ac")
    msg = str(err.value)
    assert "\n" not in msg and "val/acc" in msg and "train/loss" in msg and "param." not in msg


def _frame(rows, seeds=None):
    frame = pd.DataFrame(rows, columns=["config", "status", "val/acc"])
    return frame.assign(seed=seeds) if seeds is not None else frame


def test_single_seed_and_empty_configs_keep_rows_in_natural_order():
    trials = _frame([("beta=1.0", "completed", 0.9), ("beta=0.3", "completed", 0.8), ("beta=0.3", "completed", 0.82),
                     ("beta=0.05", "failed", np.nan), ("baseline", "completed", 0.85)])
    table = multiseed_table(trials, baseline="baseline")
    assert list(table.index) == ["baseline", "beta=0.05", "beta=0.3", "beta=1.0"]
    assert np.isnan(table.loc["beta=1.0", "std"]) and np.isnan(table.loc["beta=1.0", "ci_low"])  # n=1: no spread
    assert table.loc["beta=0.05", "n"] == 0 and table.loc["beta=0.05", "n_other"] == 1
    assert np.isnan(table.loc["beta=0.05", "mean"])
    assert set(table["flag"].iloc[1:]) == {"seeds unknown"}  # no seed column: nothing can be paired


def test_repeated_seeds_cannot_be_paired():
    rows = [("b", "completed", v) for v in (0.5, 0.6, 0.7)] + [("x", "completed", v) for v in (0.6, 0.7, 0.8, 0.9)]
    table = multiseed_table(_frame(rows, seeds=[0, 1, 2, 0, 1, 2, 2]), baseline="b")
    assert table.loc["x", "flag"] == "repeated seeds: 2" and np.isnan(table.loc["x", "p"])


def test_markdown(table):
    md = format_markdown(table, "val/acc", METRICS)
    lines = md.splitlines()
    assert "completed" in lines[0] and "paired t-test" in lines[1]
    assert lines[3].startswith("| config | n | val/acc (%) | 95% CI | Δ vs baseline (pp) | 95% CI of Δ |")
    rows = {ln.split(" | ")[0][2:]: ln for ln in lines if ln.startswith("| ") and not ln.startswith("| config")}
    assert rows["baseline"].startswith("| baseline | 3 (+1) | 91.00 ± 1.00 | [88.52, 93.48] | — |")
    assert rows["beta=0.3"].startswith("| beta=0.3 | 3 (+1) | 93.00 ± 2.00 | ")
    assert "| +2.00 | " in rows["beta=0.3"] and "| 4× |" in rows["beta=0.3"]
    assert "| n<3; unpaired seeds: 4 here, 2 in baseline |" in rows["beta=0.9"]


def test_markdown_without_baseline_or_spread():
    table = multiseed_table(_frame([("a|b", "completed", 0.5)]))
    md = format_markdown(table, "val/acc", METRICS)
    assert "Δ" not in md and "| a\\|b | 1 | 50.00 | — |" in md


def test_swept_params_are_numeric_constant_per_config_and_skip_the_baseline(trials):
    swept = swept_params(trials, baseline="baseline")
    assert list(swept) == ["ses.beta"]  # epochs, optim.lr: constant; seed: run-specific; ses.enabled: a bool
    assert swept["ses.beta"].to_dict() == {"beta=0.3": 0.3, "beta=0.5": 0.5, "beta=0.9": 0.9}


def test_mde_is_the_paired_sd_times_the_detectable_effect_at_the_pairs_the_table_has(table, store):
    base = _finals(store, "baseline", range(3))
    for config in ("beta=0.3", "beta=0.5"):
        sd = (_finals(store, config, range(3)) - base).std(ddof=1)
        assert table.loc[config, "sd_delta"] == pytest.approx(sd)
        assert table.loc[config, "mde"] == pytest.approx(detectable_effect(3) * sd)
    # two pairs (seeds 0, 1) stand without a p, but with their sd; here both differ from the baseline by 3 pp
    # exactly, up to rounding, so the sd is 0 and there is no MDE
    row = table.loc["beta=0.9"]
    assert row["sd_delta"] == 0 and np.isnan(row["mde"])
    assert np.isnan(table.loc["baseline", "mde"])


def test_holm_adjusts_the_tables_p_values_as_statsmodels_does(table):
    from statsmodels.stats.multitest import multipletests

    tested = table["p"].notna()
    assert list(table.index[tested]) == ["beta=0.3", "beta=0.5"]  # the flagged beta=0.9 is no test
    expected = multipletests(table.loc[tested, "p"], method="holm")[1]
    np.testing.assert_allclose(table.loc[tested, "p_holm"], expected, rtol=1e-12)
    assert table.loc[~tested, "p_holm"].isna().all()


def test_markdown_shows_holm_and_the_mde_beside_p(table):
    lines = format_markdown(table, "val/acc", METRICS).splitlines()
    assert "MDE: the smallest true Δ" in lines[1] and "power 0.8" in lines[1] and "Holm" in lines[1]
    head = lines[3].split(" | ")
    assert head[6:10] == ["p (paired t)", "p (Holm)", "MDE (pp)", "d_z"]
    row = next(ln for ln in lines if ln.startswith("| beta=0.3 ")).split(" | ")
    assert row[6:9] == [f"{table.loc['beta=0.3', 'p']:.3f}", f"{table.loc['beta=0.3', 'p_holm']:.3f}",
                        f"{table.loc['beta=0.3', 'mde'] * 100:.2f}"]
    assert next(ln for ln in lines if ln.startswith("| beta=0.9 ")).split(" | ")[8] == "— (sd of Δ 0)"


def test_sequential_replications_decisions_stand_in_the_table_of_the_metric_they_were_made_on():
    from analysis.formats import metric_rows

    rows = [("baseline", s, 0.90 + 0.01 * s, None) for s in range(4)]
    rows += [("beta=0.3", s, 0.80 + 0.01 * s, "worse at n=3") for s in range(3)]
    trials = pd.DataFrame(rows, columns=["config", "seed", "val/acc", "decision"])
    trials = trials.assign(status="completed", **{"test/acc": trials["val/acc"]})
    trials.attrs = {"study_metric": "val/acc"}
    table = multiseed_table(trials, "val/acc", baseline="baseline", n_resamples=100)
    assert table["decision"].tolist() == ["—", "worse at n=3"]
    head, cells = metric_rows(table, "val/acc", 100.0, "%")
    assert head[1] == "decision" and cells[1][1] == "worse at n=3"
    assert "decision" not in multiseed_table(trials, "test/acc", baseline="baseline", n_resamples=100)
