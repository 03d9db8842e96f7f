"""The LCBench benchmark's arithmetic on hand-computed cases: regret, the selected configuration, ranks."""

import math

import pytest

from benchmarks.lcbench.ref_sample import Reference
from benchmarks.lcbench.regret import epochs_at, mean_ranks, normalized_regret, scores
from benchmarks.lcbench.sim_clock import Spent

REF = Reference(best=90.0, median=70.0, median_time=100.0, size=4, seed=0)


def test_regret_is_0_at_the_samples_best_and_1_at_its_median():
    assert normalized_regret(90.0, REF) == 0.0
    assert normalized_regret(70.0, REF) == 1.0
    assert normalized_regret(85.0, REF) == pytest.approx(0.25)  # (90 - 85) / (90 - 70)
    assert normalized_regret(92.0, REF) == pytest.approx(-0.1)  # a search may beat the sample's best


def test_scores_read_the_first_epochs_of_the_budget_and_select_on_validation():
    # budget 10 epochs: 10% counts 1 epoch, 30% counts 3, 100% all 10
    vals = [60.0, 80.0, 75.0, 85.0, 70.0, 85.0, 50.0, 50.0, 50.0, 50.0]
    tests = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    log = [Spent(trial=i, epoch=1, val_acc=v, test_acc=t, time=50.0, clock=float(i)) for i, (v, t) in
           enumerate(zip(vals, tests))]
    s = scores(log, REF, budget=10)
    assert s["regret"] == pytest.approx([1.5, 0.5, 0.25])  # best 60, 80, 85: (90 - x) / 20
    assert s["test_acc"] == [1.0, 2.0, 4.0]  # 85 is found twice: the first one is selected
    # hypervolume below (1, 1) of (regret, time / 100): at 30% the point (0.5, 0.5) -> 0.5 x 0.5
    assert s["hypervolume"][0] == 0.0 and s["hypervolume"][1] == pytest.approx(0.25)
    assert s["hypervolume"][2] == pytest.approx(0.75 * 0.5)


def test_budget_points_round_up():
    assert [epochs_at(f, 5200) for f in (0.1, 0.3, 1.0)] == [520, 1560, 5200]
    assert epochs_at(0.1, 3) == 1 and epochs_at(0.3, 10) == 3


def test_mean_ranks_average_over_instances_and_share_ties():
    ranks = mean_ranks({"a": [0.1, 0.5, 0.2], "b": [0.2, 0.4, 0.2], "c": [0.3, 0.3, 0.9]})
    assert ranks == {"a": pytest.approx((1 + 3 + 1.5) / 3), "b": pytest.approx((2 + 2 + 1.5) / 3),
                     "c": pytest.approx((3 + 1 + 3) / 3)}
    assert math.isclose(sum(ranks.values()), 6.0)  # 1 + 2 + 3 on each instance
