"""`python -m analysis.power`: the seeds a claimed Δ needs, from a study's measured paired sd or a given one, in the
unit the tables show differences in; bad input is one line and exit 2."""

from __future__ import annotations

import contextlib
import io
import math
from types import SimpleNamespace

import numpy as np
import pytest
from statsmodels.stats.power import TTestPower

from analysis.power import main, plan
from analysis.stats import detectable_effect, paired_power, seeds_needed


def run_main(argv: list[str]) -> SimpleNamespace:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return SimpleNamespace(rc=rc, out=out.getvalue(), err=err.getvalue())


def _row(text: str, config: str) -> list[str]:
    line = next(ln for ln in text.splitlines() if ln.startswith(f"| {config} |"))
    return [c.strip() for c in line.strip("|").split("|")]


@pytest.mark.parametrize("delta,sd", [(0.5, 1.2), (1.0, 1.0), (2.0, 0.8)])
def test_a_bare_calculation_is_the_ceiling_of_statsmodels_solve_power(delta, sd):
    result = run_main(["--delta", str(delta), "--sd", str(sd)])
    solved = TTestPower().solve_power(effect_size=delta / sd, nobs=None, alpha=0.05, power=0.8)
    n = max(2, math.ceil(float(np.squeeze(solved))))
    assert result.rc == 0 and f": {n} seeds (pairs), power " in result.out
    assert "alpha = 0.05, power 0.8" in result.out


def test_alpha_and_power_are_passed_on():
    result = run_main(["--delta", "0.5", "--sd", "1.2", "--alpha", "0.01", "--power", "0.9"])
    assert f": {seeds_needed(0.5, 1.2, 0.01, 0.9)} seeds" in result.out and "alpha = 0.01, power 0.9" in result.out


def test_a_study_plans_from_the_paired_sd_its_tables_show(store):
    """--delta in pp, as the tables show val/acc's differences: beta=0.3's per-seed differences are 1, 2, 3 pp."""
    result = run_main(["ses_beta_sweep", "--delta", "0.5", "--tracking-uri", store.uri])
    assert result.rc == 0, result.err
    assert "val/acc against the baseline `baseline`" in result.out and "Δ = 0.5 pp" in result.out
    cells = _row(result.out, "beta=0.3")
    assert cells[1:6] == ["3", "1", f"{detectable_effect(3) * 1:.3g}", f"{paired_power(0.5, 3, 0.05):.2f}",
                          str(seeds_needed(0.005, 0.01))]
    assert cells[5] == str(math.ceil(float(np.squeeze(TTestPower().solve_power(effect_size=0.5, nobs=None,
                                                                              alpha=0.05, power=0.8)))))
    # two pairs that differ by the same 3 pp: nothing to plan against, and the tables' flag is repeated
    assert _row(result.out, "beta=0.9")[3:7] == ["—", "—", "—", "sd of the differences is 0; the tables' flag: "
                                                 "n<3; unpaired seeds: 4 here, 2 in baseline"]


def test_plan_is_in_the_logged_unit(trials):
    frame = plan(trials, "val/acc", "baseline", 0.005)
    assert list(frame.index) == ["beta=0.3", "beta=0.5", "beta=0.9"]
    assert frame.loc["beta=0.3", "sd_delta"] == pytest.approx(0.01)
    assert frame.loc["beta=0.3", "seeds_needed"] == seeds_needed(0.005, 0.01)


@pytest.mark.parametrize("argv,message", [
    (["--delta", "0", "--sd", "1"], "delta (--delta) must be a positive number"),
    (["--delta", "-0.5", "--sd", "1"], "got -0.5"),
    (["--delta", "0.5", "--sd", "0"], "--sd must be a positive number"),
    (["--delta", "0.5", "--sd", "1", "--alpha", "1.5"], "alpha must lie in (0, 1), got alpha=1.5"),
    (["--delta", "0.5", "--sd", "1", "--power", "1"], "power must lie in (alpha, 1)"),
    (["--delta", "0.5"], "give a STUDY (its measured paired sd) or --sd X"),
    (["ses_beta_sweep", "--delta", "0.5", "--sd", "1"], "not both"),
    (["nope", "--delta", "0.5"], "no study 'nope'; studies in this store: lr_search, ses_beta_sweep"),
    (["lr_search", "--delta", "0.5"], "has no baseline (hpstudy.baseline tag): give --baseline NAME"),
    (["ses_beta_sweep", "--delta", "0.5", "--baseline", "beta=9"], "no baseline config 'beta=9'"),
    (["ses_beta_sweep", "--delta", "0.5", "--metric", "val/ac"], "no metric 'val/ac'"),
])
def test_bad_input_is_one_line_and_exit_2(store, argv, message):
    result = run_main([*argv, "--tracking-uri", store.uri])
    assert result.rc == 2 and result.out == ""
    assert result.err.startswith("error: ") and result.err.count("\n") == 1 and message in result.err


def test_no_store_says_where_it_looked(tmp_path):
    result = run_main(["ses_beta_sweep", "--delta", "0.5", "--runs-dir", str(tmp_path)])
    assert result.rc == 2 and f"no MLflow store at {tmp_path}/mlflow.db" in result.err
