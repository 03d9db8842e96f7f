"""Pareto fronts on hand-checked arrays (ties, duplicates, one point, three objectives, min/max), and the adapter."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import AnalysisError, pareto_front, pareto_table
from analysis.pareto import parse_objectives


def front(points, directions):
    return pareto_front(np.array(points, dtype=float), directions).tolist()


def test_two_objectives_max_max():
    # (1, 3) and (3, 1) trade off; (2, 2) too; (1, 1) is beaten by all three
    assert front([[1, 3], [3, 1], [2, 2], [1, 1]], ["max", "max"]) == [True, True, True, False]


def test_mixed_directions():
    # accuracy up, seconds down: (0.90, 2.0) is beaten by (0.92, 1.5); (0.95, 3.0) is the accurate, slow end
    points = [[0.90, 2.0], [0.92, 1.5], [0.95, 3.0], [0.88, 1.0]]
    assert front(points, ["max", "min"]) == [False, True, True, True]
    assert front(points, ["min", "max"]) == [True, False, True, True]  # (0.92, 1.5) loses to (0.90, 2.0)


def test_duplicates_are_all_on_the_front_and_do_not_dominate_each_other():
    assert front([[1, 1], [1, 1], [0, 0]], ["max", "max"]) == [True, True, False]
    assert front([[1, 1], [1, 1], [2, 2]], ["max", "max"]) == [False, False, True]


def test_ties_in_one_objective():
    # equal in the first, better in the second: dominates; equal in both: does not
    assert front([[1, 2], [1, 1]], ["max", "max"]) == [True, False]
    assert front([[1, 2], [1, 2], [1, 1]], ["max", "min"]) == [False, False, True]


def test_one_point_and_no_points():
    assert front([[0.5, 7]], ["max", "min"]) == [True]
    assert pareto_front(np.empty((0, 2)), ["max", "max"]).tolist() == []


def test_three_objectives():
    points = [[0.93, 0.60, 1.0],  # baseline: fastest
              [0.94, 0.62, 1.2],  # better in both accuracies, slower
              [0.94, 0.61, 1.3],  # beaten by the row above in every objective
              [0.92, 0.65, 1.5]]  # most robust
    assert front(points, ["max", "max", "min"]) == [True, True, False, True]


def test_nan_rows_are_never_on_the_front_and_dominate_nothing():
    assert front([[np.nan, 9], [1, 1], [0, 0]], ["max", "max"]) == [False, True, False]


def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        pareto_front(np.zeros((3, 3)), ["max", "max"])
    with pytest.raises(ValueError, match="'up'"):
        pareto_front(np.zeros((3, 2)), ["max", "up"])


def test_parse_objectives():
    assert parse_objectives(["val/acc:max", "sys/epoch_s/mean:min"]) == [("val/acc", "max"),
                                                                         ("sys/epoch_s/mean", "min")]
    with pytest.raises(AnalysisError, match="METRIC:max"):
        parse_objectives(["val/acc", "sys/epoch_s/mean:min"])
    with pytest.raises(AnalysisError, match="2 or 3"):
        parse_objectives(["val/acc:max"])


def test_adapter_works_on_means_over_seeds(trials):
    table = pareto_table(trials, [("val/acc", "max"), ("sys/epoch_s/mean", "min")])
    # the baseline is fastest; beta=0.9 (mean 94%) is the most accurate, at the SES configs' common cost
    assert table["on_front"].to_dict() == {"baseline": True, "beta=0.3": False, "beta=0.5": False, "beta=0.9": True}
    assert table.loc["beta=0.9", "val/acc"] == pytest.approx(0.94)
    assert table.loc["baseline", "sys/epoch_s/mean"] == pytest.approx(1.0)
    assert table.loc["beta=0.9", "val/acc/std"] == pytest.approx(0.01)
