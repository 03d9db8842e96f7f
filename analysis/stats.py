"""The statistics behind the tables, on plain arrays: t-interval of a mean and a paired comparison of two configs.

Each is scipy's own routine (t.ppf, ttest_rel, bootstrap) so the numbers can be checked against scipy one for one.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95  # confidence level of every interval in the reports
N_RESAMPLES = 10_000  # per bootstrap CI; at 3 seeds the CI is close to [min, max] of the differences anyway
MIN_PAIRS = 3  # below this a paired test has 1 degree of freedom or none: its p-value says nothing


def mean_ci(values, level: float = LEVEL) -> tuple[float, float]:
    """Student-t interval of the mean (ddof=1), as `scipy.stats.t.interval`; NaNs below two values."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n < 2:
        return math.nan, math.nan
    mean, sem = float(x.mean()), float(x.std(ddof=1)) / math.sqrt(n)
    half = float(stats.t.ppf((1 + level) / 2, n - 1)) * sem
    return mean - half, mean + half


@dataclass(frozen=True)
class Paired:
    """A config against the baseline over matching seeds; `delta` is config minus baseline."""

    n_pairs: int
    delta: float  # mean of the per-seed differences
    t: float  # paired t statistic (scipy.stats.ttest_rel)
    p: float  # its two-sided p-value
    ci_low: float  # bootstrap CI of the mean difference
    ci_high: float
    d_z: float  # Cohen's d_z: mean difference / sd of the differences (ddof=1)


def paired_comparison(
    values, baseline, *, level: float = LEVEL, n_resamples: int = N_RESAMPLES, seed: int = 0
) -> Paired:
    """Compare `values` with `baseline`, element i of each from the same seed. Needs at least two pairs.

    The bootstrap (BCa, scipy's default) resamples seeds, so it keeps the pairing; `seed` makes it reproducible.
    """
    x, y = np.asarray(values, dtype=float), np.asarray(baseline, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise ValueError(f"need two equal-length 1-d arrays of >= 2 pairs, got shapes {x.shape} and {y.shape}")
    d = x - y
    sd = float(d.std(ddof=1))
    with warnings.catch_warnings():
        # identical differences: scipy warns about precision and returns t=inf, p=0, which is the right limit
        warnings.simplefilter("ignore", RuntimeWarning)
        test = stats.ttest_rel(x, y)
    if sd > 0:
        boot = stats.bootstrap((d,), np.mean, n_resamples=n_resamples, confidence_level=level,
                               rng=np.random.default_rng(seed))
        low, high = float(boot.confidence_interval.low), float(boot.confidence_interval.high)
    else:  # every resample has the same mean; BCa would divide by zero
        low = high = float(d.mean())
    return Paired(n_pairs=len(d), delta=float(d.mean()), t=float(test.statistic), p=float(test.pvalue),
                  ci_low=low, ci_high=high, d_z=float(d.mean()) / sd if sd > 0 else math.nan)


def variance_ratio(values, baseline) -> float:
    """var(values) / var(baseline), both ddof=1: 0.38 reads as "variance 2.6x lower"."""
    x, y = np.asarray(values, dtype=float), np.asarray(baseline, dtype=float)
    if len(x) < 2 or len(y) < 2:
        return math.nan
    vy = float(y.var(ddof=1))
    return float(x.var(ddof=1)) / vy if vy > 0 else math.nan
