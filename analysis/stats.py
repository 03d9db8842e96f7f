"""The statistics behind the tables, on plain numbers: t-interval of a mean, a paired comparison of two configs, Holm's
adjustment of a table's p-values, and the power of the paired t-test (minimum detectable effect, seeds needed).

Each is scipy's own routine (t.ppf, ttest_rel, bootstrap, nct) so the numbers can be checked against scipy one for one;
Holm and the power solvers are checked against statsmodels (a test dependency only: two small functions do not
justify a runtime one).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize, stats

from hpstudy.schema.errors import BadInput

LEVEL = 0.95  # confidence level of every interval in the reports
N_RESAMPLES = 10_000  # per bootstrap CI; at 3 seeds the CI is close to [min, max] of the differences anyway
MIN_PAIRS = 3  # below this a paired test has 1 degree of freedom or none: its p-value says nothing
ALPHA = 0.05  # two-sided significance level of the power calculations (the MDE column, analysis.power)
POWER = 0.8  # the chance that the paired t-test detects a true difference of the MDE's size
MIN_SEEDS = 2  # the fewest pairs a paired t-test runs on (1 degree of freedom)
MAX_SEEDS = 10**9  # `seeds_needed` gives up beyond: the difference is lost in the noise
ROUNDING = 1e-12  # relative: differences whose sd is below this x the values' size agree to rounding (sd 0)
MAX_NONCENTRALITY = 1e8  # the power is 1 to double precision long before; scipy's nct is NaN from about 1e10


def mean_ci(values, level: float = LEVEL) -> tuple[float, float]:
    """Student-t interval of the mean (ddof=1), as `scipy.stats.t.interval`; NaNs below two values."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return math.nan, math.nan
    low, high = mean_cis([x.mean()], [x.std(ddof=1)], [len(x)], level)
    return float(low[0]), float(high[0])


def mean_cis(mean, std, n, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """`mean_ci` of many samples at once, from each one's mean, std (ddof=1) and size: arrays, NaN below n = 2.
    A table of 10,000 configurations (a large search's) in one call, not 10,000."""
    mean, std, n = (np.asarray(a, dtype=float) for a in (mean, std, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf((1 + level) / 2, n - 1) * std / np.sqrt(n)
    half = np.where(n >= 2, half, np.nan)
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


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (as statsmodels' `multipletests(method="holm")`); a NaN
    is no test, so it stays NaN and is not counted in the family."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, math.nan)
    tested = np.flatnonzero(~np.isnan(p))
    order = tested[np.argsort(p[tested], kind="stable")]
    m = len(order)
    # the k-th smallest (k from 0) is multiplied by m - k, and an adjusted p never falls below an earlier one
    out[order] = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    return out


def difference_sd(values, baseline) -> float:
    """sd (ddof=1) of the per-seed differences values - baseline, 0 where it is rounding of the values' size
    (identical runs shifted by one amount give 1e-17, not 0); NaN below two pairs."""
    x, y = np.asarray(values, dtype=float), np.asarray(baseline, dtype=float)
    if len(x) < 2:
        return math.nan
    sd = float((x - y).std(ddof=1))
    return 0.0 if sd <= ROUNDING * float(np.abs(np.concatenate([x, y])).max()) else sd


def check_levels(alpha: float, power: float) -> None:
    """BadInput naming the value unless 0 < alpha < power < 1."""
    if not 0 < alpha < 1:
        raise BadInput(f"alpha must lie in (0, 1), got {alpha=}")
    if not alpha < power < 1:
        raise BadInput(f"power must lie in (alpha, 1) = ({alpha}, 1), got {power=}")


def paired_power(effect: float, n: int, alpha: float = ALPHA) -> float:
    """Exact power of the two-sided paired t-test over `n` pairs when the true mean difference is `effect` sds of the
    differences: both tails of the noncentral t (df n - 1, noncentrality effect * sqrt(n)), as statsmodels'
    `TTestPower().power` computes it."""
    df, nc = n - 1, min(effect * math.sqrt(n), MAX_NONCENTRALITY)
    crit = float(stats.t.isf(alpha / 2, df))
    # the lower tail P(T <= -crit | nc) as P(T >= crit | -nc): scipy's nct.cdf there is NaN far out at df 1
    return float(stats.nct.sf(crit, df, nc) + stats.nct.sf(crit, df, -nc))


@lru_cache(maxsize=1024)
def detectable_effect(n: int, alpha: float = ALPHA, power: float = POWER) -> float:
    """The true mean difference, in sds of the differences, that the paired t-test over `n` pairs detects with
    probability `power`: the root of `paired_power(effect, n, alpha) = power`."""
    check_levels(alpha, power)
    if n < MIN_SEEDS:
        raise BadInput(f"a paired t-test needs n >= {MIN_SEEDS} pairs, got {n=}")
    high = 1.0
    while paired_power(high, n, alpha) < power:  # power rises with the effect; at effect 0 it is alpha < power
        high *= 2
    return float(optimize.brentq(lambda e: paired_power(e, n, alpha) - power, 0.0, high, xtol=1e-12))


def no_mde_reason(sd: float, n: int) -> str:
    """Why `mde(sd, n)` is NaN ("" where it is a number)."""
    if n < MIN_SEEDS:
        return f"fewer than {MIN_SEEDS} pairs"
    if math.isnan(sd):
        return "sd of the differences unknown"
    return "sd of the differences is 0" if sd == 0 else ""


def mde(sd: float, n: int, alpha: float = ALPHA, power: float = POWER) -> float:
    """Minimum detectable effect: the smallest true mean difference that the two-sided paired t-test at level `alpha`
    over `n` pairs detects with probability `power`, when the per-seed differences have standard deviation `sd`
    (ddof=1, in the metric's units). NaN below 2 pairs or for an sd that is 0 or NaN (`no_mde_reason` says which)."""
    check_levels(alpha, power)
    sd = float(sd)
    if no_mde_reason(sd, n) or not math.isfinite(sd) or sd < 0:
        return math.nan
    return detectable_effect(int(n), alpha, power) * sd


def seeds_needed(delta: float, sd: float, alpha: float = ALPHA, power: float = POWER) -> int:
    """The fewest pairs (seeds run for both configs), at least 2, whose two-sided paired t-test at level `alpha`
    detects a true mean difference `delta` with probability `power` when the per-seed differences have standard
    deviation `sd` (both in the metric's units). BadInput for delta <= 0, an sd that is not a positive number, or
    more than MAX_SEEDS pairs."""
    check_levels(alpha, power)
    if not (math.isfinite(delta) and delta > 0):
        raise BadInput(f"delta must be a positive number, got {delta=}")
    if not (math.isfinite(sd) and sd > 0):
        raise BadInput(f"sd of the differences must be a positive number, got {sd=}")
    effect = delta / sd
    if paired_power(effect, MIN_SEEDS, alpha) >= power:
        return MIN_SEEDS
    low, high = MIN_SEEDS, 2 * MIN_SEEDS  # power(low) < target; double `high` until power(high) >= target
    while paired_power(effect, high, alpha) < power:
        if high > MAX_SEEDS:
            raise BadInput(f"delta={delta} at sd={sd} (effect {effect:.3g} sd) needs more than {MAX_SEEDS:,} pairs")
        low, high = high, 2 * high
    while high - low > 1:  # power rises with n: bisect to the first n that reaches the target
        mid = (low + high) // 2
        low, high = (low, mid) if paired_power(effect, mid, alpha) >= power else (mid, high)
    return high
