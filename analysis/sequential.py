"""Sequential replication's decision rule: after each wave of seeds, is a configuration better than, worse than,
or equivalent (within δ) to the one it is paired with, or still undecided?

The rule is a group-sequential design on the paired t statistic with Pocock-type repeated confidence intervals
(Jennison & Turnbull 1989, "Interim analyses: the repeated confidence interval approach"). The looks are fixed in
advance by the policy: n = minimum, minimum + wave, ..., maximum pairs. At look k the interval is

    mean(d) ± t_{n_k - 1, 1 - α'/2} · sd(d) / √n_k

with one nominal level α' for every look, chosen so that the intervals cover the true mean difference at *every*
look at once with probability 1 - α. Because (mean - μ) / (sd / √n) is pivotal for normal differences, that
probability depends on nothing but the look schedule; α' is found once per schedule by simulation (a fixed RNG seed,
200,000 studies: ±0.0005 on the coverage) and cached. Every decision reads the interval, so the chance that any
decision is wrong, summed over all looks, is at most α:

- *better*: the interval lies above 0 (in the metric's good direction);
- *worse*: it lies below 0;
- *equivalent*: it lies inside (-δ, δ);
- *undecided*: none of these at the maximum.

Why not a library: `confseq` (Howard, Waudby-Smith; on the package index) builds confidence sequences for bounded
data or for sub-Gaussian data of a known scale. Accuracy differences are bounded by 1 but spread by ~0.003, so a
bounded-data sequence would need hundreds of seeds, and a sub-Gaussian one a σ nobody knows before the study;
`expectation` is not on the package index. Neither gives repeated t intervals over a fixed look schedule, and the
rule is twenty lines on scipy's t quantiles, checked by simulation in `python -m benchmarks.replication`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats

from hpstudy.schema.replication_policy import Replication

BETTER, WORSE, EQUIVALENT, UNDECIDED, OPEN = "better", "worse", "equivalent", "undecided", "open"
VERDICTS = (BETTER, WORSE, EQUIVALENT, UNDECIDED)  # OPEN: still collecting seeds
CALIBRATION_STUDIES = 200_000
CALIBRATION_SEED = 20261207


@dataclass(frozen=True)
class Decision:
    verdict: str  # one of VERDICTS, or OPEN while more seeds are due
    n: int  # pairs judged
    mean: float  # mean paired difference, config - reference (raw metric units; sign as measured)
    low: float  # repeated confidence interval of the mean difference at this look
    high: float


@lru_cache(maxsize=64)
def nominal_level(looks: tuple[int, ...], alpha: float) -> float:
    """α' such that P(some look's |t| exceeds t_{n-1, 1-α'/2}) = α for normal differences with mean 0."""
    rng = np.random.default_rng(CALIBRATION_SEED)
    draws = rng.standard_normal((CALIBRATION_STUDIES, looks[-1]))
    smallest = np.ones(CALIBRATION_STUDIES)
    sums, squares, taken = np.zeros(CALIBRATION_STUDIES), np.zeros(CALIBRATION_STUDIES), 0
    for n in looks:
        block = draws[:, taken:n]
        sums += block.sum(axis=1)
        squares += (block**2).sum(axis=1)
        taken = n
        mean = sums / n
        sd = np.sqrt(np.maximum(squares - n * mean**2, 0.0) / (n - 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.abs(mean) / (sd / math.sqrt(n))
        smallest = np.minimum(smallest, 2 * stats.t.sf(t, n - 1))
    return float(np.quantile(smallest, alpha))


def interval(differences, policy: Replication) -> tuple[float, float, float]:
    """(mean, low, high): the repeated confidence interval of the mean difference after len(differences) pairs."""
    d = np.asarray(differences, dtype=float)
    n = len(d)
    if n < 2:
        return (float(d.mean()) if n else math.nan), -math.inf, math.inf
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    half = float(stats.t.isf(nominal_level(policy.looks(), policy.alpha) / 2, n - 1)) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def judge(differences, policy: Replication, mode: str = "max") -> Decision:
    """The decision after the pairs in `differences` (config - reference, one per shared seed, in seed order).

    Judged only at the policy's looks: between looks (a wave partly done) the last look's pairs decide. `mode`
    "min" means a lower metric is better (a loss): *better* then needs the interval below 0.
    """
    d = np.asarray(differences, dtype=float)
    done = [k for k in policy.looks() if k <= len(d)]
    if not done:
        return Decision(OPEN, len(d), float(d.mean()) if len(d) else math.nan, -math.inf, math.inf)
    n = done[-1]
    mean, low, high = interval(d[:n], policy)
    good_low, good_high = (low, high) if mode == "max" else (-high, -low)
    if good_low > 0:
        verdict = BETTER
    elif good_high < 0:
        verdict = WORSE
    elif -policy.delta < low and high < policy.delta:
        verdict = EQUIVALENT
    else:
        verdict = UNDECIDED if n >= policy.maximum else OPEN
    return Decision(verdict, n, mean, low, high)
