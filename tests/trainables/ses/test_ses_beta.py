"""Beta schedules as pure functions of the step: endpoints, midpoints, clamping, purity, unknown names."""

import dataclasses

import pytest

from trainables.config import SESConfig
from trainables.ses.beta import SCHEDULES, beta_at

TOTAL = 101  # steps 0..100, so step 50 is exactly mid-training
CFG = SESConfig()  # beta 0.7, start 0.3, end 0.9, steps (0.3, 0.7, 0.9)


def at(schedule: str, step: int, total: int = TOTAL, **overrides) -> float:
    return beta_at(step, total, dataclasses.replace(CFG, beta_schedule=schedule, **overrides))


@pytest.mark.parametrize(
    "schedule, start, mid, end",
    [
        ("fixed", 0.7, 0.7, 0.7),
        ("linear", 0.3, 0.6, 0.9),
        ("cosine", 0.3, 0.6, 0.9),
        ("reverse", 0.9, 0.6, 0.3),
        ("step", 0.3, 0.7, 0.9),
    ],
)
def test_start_middle_end(schedule, start, mid, end):
    assert at(schedule, 0) == pytest.approx(start)
    assert at(schedule, TOTAL // 2) == pytest.approx(mid)
    assert at(schedule, TOTAL - 1) == pytest.approx(end)


def test_every_schedule_is_covered():
    assert set(SCHEDULES) == {"fixed", "linear", "cosine", "reverse", "step"}


def test_cosine_is_slow_at_the_ends():
    quarter = TOTAL // 4
    assert at("cosine", quarter) < at("linear", quarter)
    assert at("cosine", TOTAL - 1 - quarter) > at("linear", TOTAL - 1 - quarter)


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_progress_is_clamped(schedule):
    assert at(schedule, -10) == at(schedule, 0)
    assert at(schedule, 10 * TOTAL) == at(schedule, TOTAL - 1)


def test_step_schedule_gives_equal_shares():
    values = [at("step", s, total=300) for s in range(300)]
    assert [values.count(v) for v in (0.3, 0.7, 0.9)] == [100, 100, 100]
    assert values == sorted(values)  # each value holds one contiguous share


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_schedules_are_pure(schedule):
    steps = [0, 37, 100, 12, 37, 0]
    first = [at(schedule, s) for s in steps]
    second = [at(schedule, s) for s in reversed(steps)][::-1]
    assert first == second
    assert first[1] == first[4] and first[0] == first[5]


def test_single_step_run_uses_the_start_value():
    assert at("linear", 0, total=1) == pytest.approx(0.3)


def test_unknown_schedule_lists_valid_names():
    with pytest.raises(KeyError, match="fixed, linear, cosine, reverse, step"):
        at("exponential", 0)


def test_bad_total_steps_is_rejected():
    with pytest.raises(ValueError, match="total_steps"):
        at("linear", 0, total=0)
