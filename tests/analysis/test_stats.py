"""The statistics on plain arrays equal scipy's on the same numbers; degenerate inputs give NaN, not nonsense."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analysis import mean_ci, paired_comparison, variance_ratio

X = np.array([0.9343, 0.9331, 0.9352, 0.9340, 0.9361])  # a config over 5 seeds
Y = np.array([0.9301, 0.9322, 0.9290, 0.9335, 0.9313])  # the baseline, same seeds in the same order


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_mean_ci_is_scipys_t_interval(level):
    ref = stats.t.interval(level, len(X) - 1, loc=X.mean(), scale=stats.sem(X))
    assert mean_ci(X, level) == pytest.approx(ref)


def test_mean_ci_needs_two_values():
    assert all(math.isnan(v) for v in mean_ci([0.5]))
    assert mean_ci([0.5, 0.5]) == (0.5, 0.5)


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
