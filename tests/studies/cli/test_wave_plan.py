"""Sequential replication's bookkeeping: which configurations stay open, and which seeds the next wave trains."""

from __future__ import annotations

from analysis.sequential import BETTER, OPEN, UNDECIDED
from hpstudy.schema.replication_policy import Replication
from studies.cli.wave_plan import Result, plan_wave

POLICY = Replication(minimum=3, maximum=5, delta=0.001, wave=1)
CONFIGS = ["baseline", "a", "b"]


def _results(values: dict[str, list[float]], status: str = "completed") -> list[Result]:
    return [Result(c, seed, status, v) for c, vs in values.items() for seed, v in enumerate(vs)]


def test_the_first_wave_trains_the_minimum_for_everyone():
    wave = plan_wave([], CONFIGS, "baseline", POLICY)
    assert wave.seeds == (0, 1, 2) and wave.open == ["a", "b"]


def test_only_the_open_comparisons_get_the_next_seed():
    values = {"baseline": [0.5, 0.52, 0.51], "a": [0.6, 0.62, 0.61], "b": [0.52, 0.5, 0.53]}
    wave = plan_wave(_results(values), CONFIGS, "baseline", POLICY)
    assert wave.decisions["a"].verdict == BETTER and wave.decisions["a"].n == 3
    assert wave.open == ["b"] and wave.seeds == (3,)


def test_a_comparison_at_the_maximum_is_undecided_and_the_waves_end():
    values = {"baseline": [0.5, 0.52, 0.51, 0.5, 0.53], "a": [0.6] * 3, "b": [0.52, 0.5, 0.53, 0.49, 0.52]}
    wave = plan_wave(_results(values), CONFIGS, "baseline", POLICY)
    assert wave.decisions["b"].verdict == UNDECIDED and wave.decisions["b"].n == 5
    assert wave.seeds == ()


def test_failed_trials_count_as_tried_but_give_no_pair():
    values = {"baseline": [0.5, 0.52, 0.51], "a": [0.6, 0.62, 0.61]}
    failed = [Result("b", s, "failed", None) for s in range(3)]
    wave = plan_wave(_results(values) + failed, CONFIGS, "baseline", POLICY)
    assert wave.decisions["b"].verdict == OPEN and wave.decisions["b"].n == 0
    assert wave.tried["b"] == 3 and wave.seeds == (3, 4)  # two more seeds at most: the maximum is 5 tried
