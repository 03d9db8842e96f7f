"""LR schedules as pure functions of the optimizer step: warmup, then cosine/multistep/poly/constant."""

import random

import pytest

from trainables.config import ScheduleConfig
from trainables.schedules import DECAYS, build_lr_schedule, poly

BASE = 0.1
SPE = 10  # steps per epoch
EPOCHS = 6
TOTAL = SPE * EPOCHS


def schedule(**kw):
    return build_lr_schedule(ScheduleConfig(**kw), BASE, SPE, EPOCHS)


def test_warmup_ramps_linearly_from_start_factor_to_base():
    lr = schedule(name="constant", warmup_epochs=2, warmup_start_factor=0.1)
    assert lr(0) == pytest.approx(0.1 * BASE)
    ramp = [lr(s) for s in range(21)]
    steps = [b - a for a, b in zip(ramp, ramp[1:])]
    assert steps == pytest.approx([steps[0]] * 20)  # constant increments: linear
    assert lr(10) == pytest.approx(0.55 * BASE)
    assert lr(20) == pytest.approx(BASE)


def test_fractional_warmup_epochs_count_in_steps():
    lr = schedule(name="constant", warmup_epochs=0.5, warmup_start_factor=0.0)
    assert [lr(s) for s in range(6)] == pytest.approx([0.0, 0.02, 0.04, 0.06, 0.08, 0.1])


def test_no_warmup_starts_at_base():
    assert schedule(name="cosine", warmup_epochs=0)(0) == pytest.approx(BASE)


def test_cosine_starts_at_base_after_warmup_and_decays_monotonically():
    lr = schedule(name="cosine", warmup_epochs=1, eta_min=0.01)
    assert lr(SPE) == pytest.approx(BASE)
    decay = [lr(s) for s in range(SPE, TOTAL)]
    assert all(b <= a for a, b in zip(decay, decay[1:]))
    assert all(0.01 <= v <= BASE for v in decay)
    assert lr(TOTAL) == pytest.approx(0.01)  # never below the floor, even past the end


@pytest.mark.parametrize("name", ["cosine", "poly"])
def test_decay_reaches_eta_min_at_last_step(name):
    lr = schedule(name=name, warmup_epochs=1, eta_min=0.01)
    assert lr(TOTAL - 1) == pytest.approx(0.01)


def test_multistep_multiplies_by_gamma_at_each_milestone_epoch():
    lr = schedule(name="multistep", milestones=(2, 4), gamma=0.1)
    assert [lr(s) for s in (0, 19)] == pytest.approx([BASE, BASE])
    assert [lr(s) for s in (20, 39)] == pytest.approx([BASE * 0.1] * 2)
    assert [lr(s) for s in (40, TOTAL - 1)] == pytest.approx([BASE * 0.01] * 2)


def test_poly_power_shapes_the_decay():
    linear = schedule(name="poly", power=1.0)
    square = schedule(name="poly", power=2.0)
    assert linear(0) == square(0) == pytest.approx(BASE)
    for s in (7, 30, 51):
        assert square(s) / BASE == pytest.approx((linear(s) / BASE) ** 2)
    assert poly(0.5, 1.0, 0.0, 2.0) == pytest.approx(0.25)


def test_constant_after_warmup():
    lr = schedule(name="constant", warmup_epochs=1)
    assert [lr(s) for s in range(SPE, TOTAL)] == pytest.approx([BASE] * (TOTAL - SPE))


@pytest.mark.parametrize("name", DECAYS)
def test_schedule_is_a_pure_function_of_the_step(name):
    lr = schedule(name=name, warmup_epochs=1, warmup_start_factor=0.1, milestones=(2, 4))
    forward = [lr(s) for s in range(TOTAL)]
    order = list(range(TOTAL))
    random.Random(0).shuffle(order)
    shuffled = {s: lr(s) for s in order}
    assert [shuffled[s] for s in range(TOTAL)] == forward
    assert [lr(s) for s in range(TOTAL)] == forward
    fresh = schedule(name=name, warmup_epochs=1, warmup_start_factor=0.1, milestones=(2, 4))
    assert [fresh(s) for s in range(30, TOTAL)] == forward[30:]  # a resumed run continues exactly


def test_unknown_name_fails_at_build_listing_valid_names():
    with pytest.raises(KeyError) as err:
        schedule(name="cosin")
    message = str(err.value)
    assert "cosin" in message
    assert all(name in message for name in DECAYS)


def test_unknown_name_fails_at_build_even_with_warmup():
    with pytest.raises(KeyError):
        schedule(name="cosin", warmup_epochs=1)
