"""The statistics on plain arrays equal scipy's (and Holm and the power solvers statsmodels') on the same numbers;
degenerate inputs give NaN, not nonsense."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from analysis import mean_ci, paired_comparison, variance_ratio
from analysis.stats import (
    MIN_SEEDS,
    detectable_effect,
    difference_sd,
    holm,
    mde,
    mean_cis,
    no_mde_reason,
    paired_power,
    seeds_needed,
)
from hpstudy.schema.errors import BadInput

X = np.array([0.9343, 0.9331, 0.9352, 0.9340, 0.9361])  # a config over 5 seeds
Y = np.array([0.9301, 0.9322, 0.9290, 0.9335, 0.9313])  # the baseline, same seeds in the same order


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_mean_ci_is_scipys_t_interval(level):
    ref = stats.t.interval(level, len(X) - 1, loc=X.mean(), scale=stats.sem(X))
    assert mean_ci(X, level) == pytest.approx(ref)


def test_mean_ci_needs_two_values():
    assert all(math.isnan(v) for v in mean_ci([0.5]))
    assert mean_ci([0.5, 0.5]) == (0.5, 0.5)


def test_mean_cis_is_mean_ci_of_each_sample_at_once():
    # a large search's table computes its intervals in one call; each is the per-sample one
    rng = np.random.default_rng(0)
    samples = [rng.normal(0.9, 0.01, n) for n in (0, 1, 2, 3, 5, 10, 40)]
    mean = [x.mean() if len(x) else math.nan for x in samples]
    std = [x.std(ddof=1) if len(x) > 1 else math.nan for x in samples]
    low, high = mean_cis(mean, std, [len(x) for x in samples], level=0.9)
    for x, lo, hi in zip(samples, low, high):
        ref = mean_ci(x, 0.9)
        if len(x) < 2:
            assert math.isnan(lo) and math.isnan(hi) and all(math.isnan(v) for v in ref)
        else:
            assert (lo, hi) == pytest.approx(ref, rel=1e-12)


def test_paired_comparison_is_scipys_ttest_rel():
    res = paired_comparison(X, Y)
    ref = stats.ttest_rel(X, Y)
    d = X - Y
    assert res.n_pairs == 5
    assert (res.t, res.p) == pytest.approx((ref.statistic, ref.pvalue))
    assert res.delta == pytest.approx(d.mean())
    assert res.d_z == pytest.approx(d.mean() / d.std(ddof=1))


def test_bootstrap_ci_is_seeded_contains_the_mean_and_matches_scipy():
    a, b = paired_comparison(X, Y, seed=3), paired_comparison(X, Y, seed=3)
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert a.ci_low < a.delta < a.ci_high
    ref = stats.bootstrap((X - Y,), np.mean, n_resamples=10_000, rng=np.random.default_rng(3)).confidence_interval
    assert (a.ci_low, a.ci_high) == pytest.approx((ref.low, ref.high))


def test_identical_differences_give_a_point_interval():
    res = paired_comparison(Y + 0.25, Y)  # every seed gains exactly 0.25 (up to rounding)
    assert res.ci_low == pytest.approx(0.25) and res.ci_high == pytest.approx(0.25)


def test_bad_shapes_are_rejected_with_the_shapes():
    with pytest.raises(ValueError, match=r"\(3,\) and \(2,\)"):
        paired_comparison([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="pairs"):
        paired_comparison([1], [1])


def test_variance_ratio():
    assert variance_ratio(X, Y) == pytest.approx(X.var(ddof=1) / Y.var(ddof=1))
    assert math.isnan(variance_ratio([1.0], Y)) and math.isnan(variance_ratio(X, [1.0, 1.0]))


# ---- Holm's adjustment and the power of the paired t-test, against statsmodels (a test dependency)

def test_holm_is_statsmodels_multipletests_and_leaves_untested_out():
    from statsmodels.stats.multitest import multipletests

    p = np.array([0.01, np.nan, 0.04, 0.03, 0.5, 0.04, 0.0004])
    tested = ~np.isnan(p)
    adjusted = holm(p)
    assert np.isnan(adjusted[1])
    np.testing.assert_allclose(adjusted[tested], multipletests(p[tested], method="holm")[1], rtol=0, atol=1e-15)
    assert np.isnan(holm([np.nan, np.nan])).all() and holm([]).shape == (0,)


def _power_by_integral(effect: float, n: int, alpha: float) -> float:
    """The same power without scipy's noncentral t: T = (Z + nc) / sqrt(V / df), V ~ chi2(df), integrated over V."""
    df, nc = n - 1, effect * math.sqrt(n)
    crit = stats.t.isf(alpha / 2, df)

    def both_tails(v):
        s = crit * math.sqrt(v / df)
        return (stats.norm.sf(s - nc) + stats.norm.cdf(-s - nc)) * stats.chi2.pdf(v, df)

    return integrate.quad(both_tails, 0, np.inf, epsabs=1e-14, epsrel=1e-12, limit=200)[0]


@pytest.mark.parametrize("n", [2, 3, 5, 10, 30, 100])
def test_paired_power_is_statsmodels_ttest_power(n):
    from statsmodels.stats.power import TTestPower

    for effect in (0.01, 0.2, 0.5, 1.0, 2.0):
        for alpha in (0.01, 0.05, 0.1):
            ref = TTestPower().power(effect_size=effect, nobs=n, alpha=alpha, alternative="two-sided")
            if np.isnan(ref):  # statsmodels' lower tail (scipy's nct.cdf) far out; ours takes it as the mirrored sf
                ref = _power_by_integral(effect, n, alpha)
            assert paired_power(effect, n, alpha) == pytest.approx(ref, abs=1e-12)


@pytest.mark.parametrize("n", [2, 3])
def test_mde_at_two_and_three_pairs_has_the_power_an_integral_gives(n):
    # statsmodels' power is NaN here (scipy's nct.cdf far out in the lower tail); an integral checks it instead
    assert _power_by_integral(detectable_effect(n), n, 0.05) == pytest.approx(0.8, abs=1e-9)


def test_mde_agrees_with_statsmodels_solve_power():
    """The effect size (in sds of the differences) the tables' MDE is built on, against statsmodels: its root of
    its own power equation to 1e-6, and `solve_power` to its bracketing tolerance (xtol 1e-5)."""
    from statsmodels.stats.power import TTestPower
    from statsmodels.tools.rootfinding import brentq_expanding

    power = TTestPower()
    for n in (4, 5, 6, 8, 10, 13, 20, 30, 50, 100, 1000):
        mine = detectable_effect(n)
        assert power.power(effect_size=mine, nobs=n, alpha=0.05) == pytest.approx(0.8, abs=1e-9)
        root = brentq_expanding(lambda e: power.power(effect_size=e, nobs=n, alpha=0.05) - 0.8,
                                low=0.5 * mine, upp=1.5 * mine, xtol=1e-12)
        assert mine == pytest.approx(root, abs=1e-6)
        solved = power.solve_power(effect_size=None, nobs=n, alpha=0.05, power=0.8, alternative="two-sided")
        assert mine == pytest.approx(abs(float(np.squeeze(solved))), abs=1e-5)
        assert mde(0.7, n) == pytest.approx(mine * 0.7, rel=1e-12)


def test_mde_is_nan_below_two_pairs_or_without_spread_and_says_why():
    assert mde(0.01, 3) == pytest.approx(0.01 * 3.2640435, rel=1e-7) and no_mde_reason(0.01, 3) == ""
    assert math.isnan(mde(0.01, 1)) and no_mde_reason(0.01, 1) == "fewer than 2 pairs"
    assert math.isnan(mde(0.0, 5)) and no_mde_reason(0.0, 5) == "sd of the differences is 0"
    assert math.isnan(mde(math.nan, 5)) and no_mde_reason(math.nan, 5) == "sd of the differences unknown"


@pytest.mark.parametrize("alpha,power", [(0.05, 0.8), (0.01, 0.9), (0.1, 0.8)])
def test_seeds_needed_is_the_ceiling_of_statsmodels_solve_power(alpha, power):
    from statsmodels.stats.power import TTestPower

    for effect in (0.2, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 3.0):
        n = seeds_needed(effect * 0.02, 0.02, alpha, power)  # delta and sd in one unit, e.g. 0.02 = 2 pp
        solved = TTestPower().solve_power(effect_size=effect, nobs=None, alpha=alpha, power=power)
        assert n == max(MIN_SEEDS, math.ceil(float(np.squeeze(solved))))
        assert paired_power(effect, n, alpha) >= power
        assert n == MIN_SEEDS or paired_power(effect, n - 1, alpha) < power
        # the same statement as the tables' column: the MDE at n pairs is at most Δ, at n - 1 above it
        assert mde(0.02, n, alpha, power) <= effect * 0.02 < (mde(0.02, n - 1, alpha, power) if n > MIN_SEEDS else 1)


def test_seeds_needed_at_the_edges():
    assert seeds_needed(1.0, 1e-12) == MIN_SEEDS  # a difference far beyond the noise
    with pytest.raises(BadInput, match="more than 1,000,000,000 pairs"):
        seeds_needed(1e-7, 1.0)


@pytest.mark.parametrize("kwargs,match", [
    ({"delta": 0.0}, "delta must be a positive number, got delta=0.0"),
    ({"sd": -1.0}, "sd of the differences must be a positive number, got sd=-1.0"),
    ({"sd": math.nan}, "sd=nan"),
    ({"alpha": 1.0}, r"alpha must lie in \(0, 1\), got alpha=1.0"),
    ({"power": 0.05}, r"power must lie in \(alpha, 1\) = \(0.05, 1\), got power=0.05"),
])
def test_bad_values_are_one_line_naming_them(kwargs, match):
    with pytest.raises(BadInput, match=match):
        seeds_needed(**({"delta": 0.5, "sd": 1.0} | kwargs))


def test_difference_sd_is_zero_when_the_differences_agree_to_rounding():
    assert difference_sd(Y + 0.03, Y) == 0.0  # every seed gains 0.03: the sd left is rounding (about 1e-17)
    assert difference_sd(X, Y) == pytest.approx((X - Y).std(ddof=1))
    assert math.isnan(difference_sd([0.5], [0.4]))
