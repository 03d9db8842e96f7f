"""The decision rule of sequential replication: repeated t intervals over the policy's looks, their simultaneous
coverage (the false-decision rate under the null, checked on fresh simulations, not the calibration's), and each
verdict's condition."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analysis.sequential import BETTER, EQUIVALENT, OPEN, UNDECIDED, WORSE, interval, judge, nominal_level
from hpstudy.schema.replication_policy import Replication

POLICY = Replication(minimum=3, maximum=8, delta=0.5, alpha=0.05, wave=1)


def test_the_nominal_level_makes_every_look_together_cover_at_one_minus_alpha():
    looks = POLICY.looks()
    level = nominal_level(looks, POLICY.alpha)
    assert POLICY.alpha / len(looks) < level < POLICY.alpha  # between Bonferroni and no correction
    rng = np.random.default_rng(7)  # not the calibration's draws
    d = rng.standard_normal((40_000, looks[-1])) * 3.0 + 1.7  # any mean and scale: the t statistic is pivotal
    missed = np.zeros(len(d), bool)
    for n in looks:
        x = d[:, :n]
        half = stats.t.isf(level / 2, n - 1) * x.std(axis=1, ddof=1) / math.sqrt(n)
        missed |= np.abs(x.mean(axis=1) - 1.7) > half
    assert abs(missed.mean() - POLICY.alpha) < 0.006  # 4 standard errors of 40,000 draws


def test_one_look_is_the_plain_t_interval():
    one = Replication(minimum=5, maximum=5, delta=1.0)
    assert nominal_level(one.looks(), one.alpha) == pytest.approx(one.alpha, abs=0.002)
    d = [0.3, -0.1, 0.5, 0.2, 0.4]
    mean, low, high = interval(d, one)
    t_low, t_high = stats.t.interval(0.95, 4, loc=np.mean(d), scale=stats.sem(d))
    assert mean == pytest.approx(np.mean(d)) and low == pytest.approx(t_low, rel=0.02)
    assert high == pytest.approx(t_high, rel=0.02)


def test_verdicts_follow_the_interval():
    assert judge([1.0, 1.1, 0.9], POLICY).verdict == BETTER
    assert judge([-1.0, -1.1, -0.9], POLICY).verdict == WORSE
    assert judge([-1.0, -1.1, -0.9], POLICY, mode="min").verdict == BETTER  # a loss that fell
    assert judge([0.01, -0.01, 0.0, 0.02, -0.02], POLICY).verdict == EQUIVALENT
    assert judge([1.0, -1.0, 0.5], POLICY).verdict == OPEN
    assert judge([1.0, -1.0, 0.5, -0.4, 0.9, -1.2, 0.1, 0.3], POLICY).verdict == UNDECIDED
    assert judge([1.0, 1.1], POLICY).verdict == OPEN  # before the first look nothing is decided


def test_between_looks_the_last_look_decides():
    policy = Replication(minimum=3, maximum=9, delta=0.5, wave=3)
    assert policy.looks() == (3, 6, 9)
    decision = judge([1.0, -1.0, 0.5, 9.0, 9.0], policy)  # 5 pairs: judged at 3
    assert decision.n == 3 and decision.verdict == OPEN
    assert Replication(minimum=3, maximum=10, wave=3).looks() == (3, 6, 9, 10)


@pytest.mark.parametrize("fields, named", [
    ({"minimum": 5, "maximum": 4}, "minimum=5 is above maximum=4"),
    ({"delta": 0.0}, "delta=0.0 is not a number > 0"),
    ({"delta": -1}, "delta=-1 is not a number > 0"),
    ({"alpha": 1.0}, "alpha=1.0 is not in (0, 1)"),
    ({"alpha": 0}, "alpha=0 is not in (0, 1)"),
    ({"minimum": 1}, "minimum=1 is below 2"),
    ({"wave": 0}, "wave=0 is below 1"),
    ({"maximum": 2.5}, "maximum=2.5 is not an integer"),
])
def test_a_policy_that_cannot_run_is_one_line_naming_the_value(fields, named):
    from hpstudy.schema.errors import BadInput

    with pytest.raises(BadInput) as err:
        Replication(**fields)
    assert named in str(err.value) and "\n" not in str(err.value)
