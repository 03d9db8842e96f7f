"""The seed's table shape from a trials frame: what each column counts, what each Δ is paired with, and the
cells that say why a number is missing. Plain frames, no MLflow."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.paper_doc import head, rows
from analysis.seed_table import seed_table
from analysis.stats import mde


def frame(configs: dict[str, dict], seeds=(0, 1, 2), *, acc=None, extra=None, statuses=None) -> pd.DataFrame:
    """One trial per config and seed: `configs` maps a label to its params; `acc(config, seed)` its test/acc
    (default: SES on adds 0.02 + 0.005 * seed)."""
    out = []
    for config, params in configs.items():
        on = bool(params.get("ses.enabled"))
        for seed in seeds:
            row = {"run_id": f"{config}-{seed}", "trial_id": "", "config": config, "seed": seed,
                   "status": (statuses or {}).get((config, seed), "completed"), "stop_reason": None,
                   "stop_epoch": 3, **{f"param.{k}": v for k, v in params.items()},
                   "test/acc": acc(config, seed) if acc else 0.7 + 0.01 * seed + (0.02 + 0.005 * seed) * on,
                   "gap/train_test_acc": 0.1 - 0.01 * on, "sys/epoch_s/mean": 1.2 if on else 1.0}
            out.append(row | (extra(config, seed) if extra else {}))
    trials = pd.DataFrame(out)
    trials["seed"] = trials["seed"].astype("Int64")
    return trials


ARMS = {"none": {"ses.enabled": False}, "none+ses": {"ses.enabled": True},
        "mixup": {"ses.enabled": False, "recipe.mixup_alpha": 1.0},
        "mixup+ses": {"ses.enabled": True, "recipe.mixup_alpha": 1.0}}
SWEEP = {"baseline": {"ses.enabled": False}, "beta=0.3": {"ses.enabled": True, "ses.beta": 0.3},
         "beta=0.9": {"ses.enabled": True, "ses.beta": 0.9}}


def test_columns_are_mean_std_and_n_of_counted_trials():
    trials = frame(SWEEP, seeds=(0, 1, 2, 3), statuses={("beta=0.3", 3): "failed"})
    table = seed_table(trials, "val/acc", "baseline")
    r = table.rows.loc["beta=0.3"]
    values = [0.7 + 0.01 * s + 0.02 + 0.005 * s for s in range(3)]
    assert (r["acc/n"], r["acc/other"]) == (3, 1)
    assert r["acc"] == pytest.approx(np.mean(values)) and r["acc/std"] == pytest.approx(np.std(values, ddof=1))
    assert r["time/rel"] == pytest.approx(0.2)
    assert list(table.rows.index) == ["baseline", "beta=0.3", "beta=0.9"]


def test_delta_is_the_mean_per_seed_difference_with_scipys_paired_p():
    table = seed_table(frame(SWEEP), "val/acc", "baseline")
    x = [0.7 + 0.01 * s + 0.02 + 0.005 * s for s in range(3)]
    y = [0.7 + 0.01 * s for s in range(3)]
    r = table.rows.loc["beta=0.9"]
    assert r["d_acc"] == pytest.approx(np.mean(np.subtract(x, y)))
    assert r["d_acc/p"] == pytest.approx(stats.ttest_rel(x, y).pvalue)
    assert r["d_acc/low"] <= r["d_acc"] <= r["d_acc/high"] and r["d_acc/flag"] == ""


def test_an_ses_arm_pairs_with_its_ses_off_twin_and_sits_after_it():
    table = seed_table(frame(ARMS), "val/acc", "none")
    assert table.rows["vs"].to_dict() == {"none": None, "none+ses": "none", "mixup": "none", "mixup+ses": "mixup"}
    assert list(table.rows.index) == ["none", "none+ses", "mixup", "mixup+ses"]
    # the Δ of mixup+ses is against mixup: the SES gain alone (0.02 + 0.005 * seed), not SES + mixing
    assert table.rows.loc["mixup+ses", "d_acc"] == pytest.approx(0.025)
    assert "Δ vs" in head(table, with_vs=True)


def test_a_sweep_pairs_every_config_with_the_baseline():
    table = seed_table(frame(SWEEP), "val/acc", "baseline")
    assert set(table.rows["vs"].dropna()) == {"baseline"}


def test_below_three_pairs_the_delta_stands_without_ci_or_p_and_says_why():
    table = seed_table(frame(SWEEP, seeds=(0, 1)), "val/acc", "baseline")
    r = table.rows.loc["beta=0.3"]
    assert r["d_acc/flag"] == "n<3" and np.isnan(r["d_acc/p"]) and np.isnan(r["d_acc/low"])
    cells = rows(table, with_vs=False)[1]
    assert cells[5] == f"{r['d_acc'] * 100:+.2f} (n<3; MDE {r['d_acc/mde'] * 100:.2f})"  # what 2 seeds could see


def test_unpaired_seeds_are_flagged():
    trials = frame(SWEEP)
    trials = trials[~((trials["config"] == "beta=0.3") & (trials["seed"] == 2))]
    extra = frame({"beta=0.3": SWEEP["beta=0.3"]}, seeds=(5,))
    table = seed_table(pd.concat([trials, extra], ignore_index=True), "val/acc", "baseline")
    r = table.rows.loc["beta=0.3"]
    assert "unpaired seeds: 5 here, 2 in baseline" in r["d_acc/flag"] and r["d_acc/pairs"] == 2


def test_robustness_not_measured_says_so_in_its_columns():
    trials = frame(SWEEP)
    trials["param.rob.enabled"] = False
    table = seed_table(trials, "val/acc", "baseline")
    why = "robustness not measured: rob.enabled is off in this study"
    assert table.missing["Rob"] == table.missing["Δ Rob"] == why
    assert rows(table, with_vs=False)[1][4] == "—"


def test_robustness_is_paired_where_it_was_measured():
    table = seed_table(frame(SWEEP, extra=lambda c, s: {"rob/acc": 0.5 + 0.01 * s + 0.03 * ("beta" in c)}),
                       "val/acc", "baseline")
    assert table.rows.loc["beta=0.3", "d_rob"] == pytest.approx(0.03) and "Rob" not in table.missing


def test_the_columns_follow_the_lead_metric():
    trials = frame(SWEEP).rename(columns={"test/acc": "test/fscore", "gap/train_test_acc": "gap/train_test_fscore"})
    table = seed_table(trials, "val/fscore", "baseline")
    assert table.keys.acc == "test/fscore" and table.rows.loc["baseline", "acc"] == pytest.approx(0.71)
    assert head(table, with_vs=False)[2] == "fscore"  # a task's own metric: no unit known to hpstudy.schema.metrics
    assert table.missing["Rob"] == "rob/fscore not logged"


def test_without_a_test_split_acc_says_why():
    table = seed_table(frame(SWEEP).drop(columns=["test/acc"]), "val/acc", "baseline")
    assert table.missing["Acc"] == "test/acc not logged: the study measured no test split (eval.test)"
    assert table.missing["Δ Acc"] == table.missing["Acc"]


def test_every_paired_column_has_its_mde_and_holms_p():
    """Per config an sd of the per-seed differences of its own: beta=0.k's Δ grows by 0.003 * seed² * k."""
    configs = {"baseline": {"ses.enabled": False}}
    configs |= {f"beta=0.{k}": {"ses.enabled": True, "ses.beta": k / 10} for k in (1, 2, 3)}

    def acc(config: str, seed: int) -> float:
        return 0.7 + 0.01 * seed + (0.02 + 0.003 * seed ** 2 * int(config[-1]) if "beta" in config else 0)

    table = seed_table(frame(configs, seeds=(0, 1, 2, 3), acc=acc), "val/acc", "baseline")
    rows = table.rows
    p = rows.loc[["beta=0.1", "beta=0.2", "beta=0.3"], "d_acc/p"]
    assert rows.loc[p.index, "d_acc/p_holm"].to_numpy() == pytest.approx(multipletests(p, method="holm")[1])
    for k in (1, 2, 3):
        d = np.array([0.02 + 0.003 * s ** 2 * k for s in range(4)])
        r = rows.loc[f"beta=0.{k}"]
        assert r["d_acc/sd"] == pytest.approx(d.std(ddof=1))
        assert r["d_acc/mde"] == pytest.approx(mde(d.std(ddof=1), 4))
    assert np.isnan(rows.loc["baseline", "d_acc/mde"]) and np.isnan(rows.loc["baseline", "d_acc/p_holm"])


def test_below_two_pairs_there_is_no_mde():
    r = seed_table(frame(SWEEP, seeds=(0,)), "val/acc", "baseline").rows.loc["beta=0.3"]
    assert r["d_acc/pairs"] == 1 and np.isnan(r["d_acc/mde"]) and np.isnan(r["d_acc/sd"])
