"""LR schedules as pure functions of the optimizer step: warmup, then cosine/restarts/multistep/poly/constant."""

import random
import warnings

import pytest
import torch

from trainables.config import ScheduleConfig, TrainConfig
from trainables.config.overrides import ConfigError, apply_overrides
from trainables.optim.schedules import DECAYS, build_lr_schedule, poly, restart_cycle
from trainables.validate import validate

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


def _torch_restarts(t0, t_mult, eta_min):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE)
    return optimizer, torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=t0, T_mult=t_mult,
                                                                            eta_min=eta_min)


@pytest.mark.parametrize(("t0", "t_mult"), [(30, 2), (3, 2), (4, 1), (2, 3)])
def test_cosine_restarts_matches_torch_stepped_per_epoch(t0, t_mult):
    epochs = 250 if t0 == 30 else 40  # seed 003's T_0=30, T_mult=2: restarts at 30, 90, 210
    lr = build_lr_schedule(ScheduleConfig(name="cosine_restarts", t0=t0, t_mult=t_mult, eta_min=1e-4), BASE, 1,
                           epochs)
    optimizer, torch_schedule = _torch_restarts(t0, t_mult, 1e-4)
    for epoch in range(epochs):
        assert lr(epoch) == pytest.approx(optimizer.param_groups[0]["lr"], abs=1e-9), epoch
        optimizer.step()
        torch_schedule.step()


@pytest.mark.parametrize(("t0", "t_mult"), [(3, 2), (4, 1)])
def test_cosine_restarts_matches_torch_stepped_per_step(t0, t_mult):
    # torch's documented per-iteration use: scheduler.step(epoch + i / iters)
    lr = build_lr_schedule(ScheduleConfig(name="cosine_restarts", t0=t0, t_mult=t_mult, eta_min=1e-4), BASE, SPE, 25)
    optimizer, torch_schedule = _torch_restarts(t0, t_mult, 1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates the epoch argument
        for epoch in range(25):
            for i in range(SPE):
                torch_schedule.step(epoch + i / SPE)
                assert lr(epoch * SPE + i) == pytest.approx(optimizer.param_groups[0]["lr"], abs=1e-9)


def test_cosine_restarts_starts_after_warmup_and_restarts_to_base():
    cfg = ScheduleConfig(name="cosine_restarts", warmup_epochs=1, warmup_start_factor=0.1, t0=2, t_mult=2, eta_min=0.01)
    lr = build_lr_schedule(cfg, BASE, SPE, 12)
    assert lr(0) == pytest.approx(0.1 * BASE)
    assert lr(SPE) == pytest.approx(BASE)  # the first cycle begins where warmup ends
    assert lr(SPE + 2 * SPE) == pytest.approx(BASE)  # restart after t0 = 2 epochs
    assert lr(SPE + 2 * SPE + 4 * SPE) == pytest.approx(BASE)  # then after 2 * 2 = 4 more
    values = [lr(s) for s in range(SPE, 12 * SPE)]
    assert min(values) >= 0.01 and min(values) == pytest.approx(0.01, abs=1e-3)  # floors at eta_min


def test_cosine_restarts_any_step_is_computed_directly():
    cfg = ScheduleConfig(name="cosine_restarts", t0=3, t_mult=2, eta_min=1e-3)
    lr = build_lr_schedule(cfg, BASE, SPE, 100)
    forward = [lr(s) for s in range(100 * SPE)]
    order = list(range(100 * SPE))
    random.Random(1).shuffle(order)
    assert [v for _, v in sorted((s, lr(s)) for s in order)] == forward
    far = build_lr_schedule(cfg, BASE, SPE, 100)  # a fresh schedule asked for a late step first
    assert far(93 * SPE + 7) == forward[93 * SPE + 7]


def test_restart_cycle_never_misses_a_boundary():
    assert restart_cycle(0.0, 30, 2) == (0.0, 30)
    assert restart_cycle(29.999, 30, 2)[1] == 30
    assert restart_cycle(30.0, 30, 2) == (0.0, 60)
    assert restart_cycle(90.0, 30, 2) == (0.0, 120)
    assert restart_cycle(210.0, 30, 2) == (0.0, 240)
    assert restart_cycle(25.0, 10, 1) == (5.0, 10)


def test_cosine_restarts_keys_are_reachable_from_set_and_checked():
    cfg = apply_overrides(TrainConfig(), {"sched.name": "cosine_restarts", "sched.t0": "10", "sched.t_mult": "1"})
    validate(cfg, check_data=False)
    assert (cfg.sched.t0, cfg.sched.t_mult) == (10, 1)
    assert (ScheduleConfig().t0, ScheduleConfig().t_mult) == (30, 2)  # seed 003's T_0, T_mult
    for key in ("sched.t0", "sched.t_mult"):
        with pytest.raises(ConfigError, match=key):
            validate(apply_overrides(TrainConfig(), {key: 0}), check_data=False)
