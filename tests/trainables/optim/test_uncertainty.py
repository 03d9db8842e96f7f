"""Uncertainty weighting: bounded log-variances that still move, weights ~ 1/L at the optimum, metric names; and
the fixed weighting, its null object: the task's loss plus the penalty, nothing trained, logged or saved."""

import math

import pytest
import torch

from trainables.optim.uncertainty import UncertaintyWeighting


def _fit(uw: UncertaintyWeighting, losses: dict, steps: int, optimizer: torch.optim.Optimizer) -> None:
    for _ in range(steps):
        total, _ = uw({k: torch.tensor(v) for k, v in losses.items()})
        optimizer.zero_grad()
        total.backward()
        optimizer.step()


def _sgd(uw: UncertaintyWeighting) -> torch.optim.Optimizer:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5, momentum=0.9, weight_decay=5e-4)
    uw.attach(opt)  # as the loop would: an extra group next to the model's
    return opt


def test_metrics_and_total_at_init():
    uw = UncertaintyWeighting(["cls", "aux"])
    total, metrics = uw({"cls": torch.tensor(2.0), "aux": torch.tensor(0.5)})
    assert total.item() == pytest.approx(2.5)  # every weight 1, every s_i 0
    assert set(metrics) == {"loss_weight/cls", "loss_weight/aux", "loss_log_var/cls", "loss_log_var/aux"}
    assert metrics["loss_weight/cls"].item() == 1.0 and not metrics["loss_weight/cls"].requires_grad
    total.backward()
    assert uw.log_vars.grad.tolist() == pytest.approx([1 - 2.0, 1 - 0.5])  # d/ds (e^-s L + s) = 1 - e^-s L


def test_attach_adds_a_group_without_weight_decay():
    uw = UncertaintyWeighting(["a"])
    opt = _sgd(uw)
    assert opt.param_groups[-1]["params"] == [uw.log_vars] and opt.param_groups[-1]["weight_decay"] == 0.0


def test_bounds_hold_under_a_loss_that_pushes_outwards_and_s_comes_back():
    uw = UncertaintyWeighting(["big", "small"])
    opt = _sgd(uw)
    _fit(uw, {"big": 1e3, "small": 1e-4}, 300, opt)  # unbounded optima: s = log L = 6.9 and -9.2
    assert uw.log_vars.tolist() == [2.0, -2.0]  # the stored values too, not only what the loss sees
    _, metrics = uw({"big": torch.tensor(1.0), "small": torch.tensor(1.0)})
    assert metrics["loss_weight/big"].item() == pytest.approx(math.exp(-2))
    assert metrics["loss_log_var/small"].item() == -2.0

    _fit(uw, {"big": 1.0, "small": 1.0}, 100, opt)  # the terms change: the s_i must leave the bounds again
    assert uw.log_vars.abs().max().item() < 0.1


def test_weights_approach_inverse_loss_on_two_regressions_with_different_noise():
    torch.manual_seed(0)
    x = torch.randn(512, 4)
    noise = {"precise": 0.5, "noisy": 2.0}  # residual variances 0.25 and 4, inside e^-2 .. e^2
    targets = {k: x @ torch.randn(4) + sd * torch.randn(512) for k, sd in noise.items()}
    heads = {k: torch.nn.Linear(4, 1) for k in noise}
    uw = UncertaintyWeighting(list(noise))
    opt = torch.optim.Adam([p for h in heads.values() for p in h.parameters()], lr=0.05)
    uw.attach(opt)
    for _ in range(400):
        mse = {k: (heads[k](x).squeeze(1) - targets[k]).square().mean() for k in noise}
        total, metrics = uw(mse)
        opt.zero_grad()
        total.backward()
        opt.step()
    for k in noise:
        assert metrics[f"loss_weight/{k}"].item() == pytest.approx(1 / mse[k].item(), rel=0.1)
    ratio = metrics["loss_weight/precise"].item() / metrics["loss_weight/noisy"].item()
    assert ratio == pytest.approx(16, rel=0.25)  # (2.0 / 0.5)^2


def test_bad_names_and_bounds_are_refused():
    with pytest.raises(ValueError, match="distinct"):
        UncertaintyWeighting(["a", "a"])
    with pytest.raises(ValueError, match="min_log_var"):
        UncertaintyWeighting(["a"], min_log_var=1.0, max_log_var=-1.0)
    with pytest.raises(KeyError, match="expected losses for a, b"):
        UncertaintyWeighting(["a", "b"])({"a": torch.tensor(1.0)})


# --- every term a task returns (seed 002 weighted three), plus the SES penalty only when SES is on ---

from trainables import loop  # noqa: E402  (the loop-level checks below)
from trainables.config import TrainConfig  # noqa: E402
from trainables.config.overrides import apply_overrides  # noqa: E402
from trainables.optim.uncertainty import FixedWeighting, TaskLossWeighting, loss_terms  # noqa: E402


def test_loss_terms_are_the_tasks_parts_else_its_loss_and_the_penalty_when_given():
    ce, dice, pen = torch.tensor(0.7), torch.tensor(0.2), torch.tensor(0.05)
    seg = {"loss": ce + 1.5 * dice, "loss_ce": ce, "loss_dice": dice}
    assert loss_terms(seg, pen) == {"ce": ce, "dice": dice, "ses": pen}  # "loss" is their sum, not a third term
    assert loss_terms({"loss": ce}) == {"task": ce}
    with pytest.raises(ValueError, match="loss_ses"):
        loss_terms({"loss": ce, "loss_ses": dice}, pen)


def test_names_come_from_the_first_call_and_the_optimizer_trains_them():
    uw = TaskLossWeighting(ses=False, min_log_var=-2.0, max_log_var=2.0)
    opt = _sgd(uw)  # attached before the names are known, as build_parts does
    losses = {"loss": torch.tensor(3.0), "loss_a": torch.tensor(2.0), "loss_b": torch.tensor(1.0)}
    total, metrics = uw(losses, torch.tensor(0.5))  # SES off: its (zero) penalty is no term
    assert uw.names == ("a", "b") and set(metrics) == {"loss_weight/a", "loss_weight/b", "loss_log_var/a",
                                                       "loss_log_var/b"}
    assert total.item() == pytest.approx(3.0)  # weights 1, s 0: a + b, not the task's own "loss"
    opt.zero_grad()
    total.backward()
    opt.step()
    assert uw.log_vars.tolist() == pytest.approx([0.5, 0.0])  # d/ds = 1 - L: -1 and 0, one SGD step of lr 0.5


def test_a_lazy_weighting_resumes_from_its_state_dict():
    uw = TaskLossWeighting(ses=True)
    uw({"loss": torch.tensor(1.0)}, torch.tensor(0.1))
    with torch.no_grad():
        uw.log_vars.copy_(torch.tensor([0.5, -1.5]))
    resumed = TaskLossWeighting(ses=True)
    resumed.load_state_dict({k: v.clone() for k, v in uw.state_dict().items()})
    _, metrics = resumed({"loss": torch.tensor(1.0)}, torch.tensor(0.1))
    assert resumed.names == ("task", "ses") and metrics["loss_log_var/ses"].item() == -1.5
    with pytest.raises(KeyError, match="2 log-variances were loaded"):
        other = TaskLossWeighting(ses=False)
        other.load_state_dict(uw.state_dict())
        other({"loss": torch.tensor(1.0), **{f"loss_{n}": torch.tensor(1.0) for n in "abc"}}, torch.tensor(0.0))


class _Keep:
    def __init__(self):
        self.reports, self.states = [], []

    def restore(self):
        return None

    def report(self, metrics, state):
        self.reports.append(metrics)
        self.states.append(state)


def _last_report(**overrides) -> dict:
    sink = _Keep()
    tiny = {"num_threads": 1, "epochs": 1, "loss_weighting": "uncertainty", "data.limit_train": 256}
    loop.run(apply_overrides(TrainConfig(), {**tiny, **overrides}), sink)
    return sink.reports[-1]


def test_the_training_step_weights_each_segmentation_term_and_ses():
    last = _last_report(**{"task.name": "segmentation", "data.name": "mnist_seg", "model.name": "small_unet",
                           "ses.enabled": True, "ses.layers": "last:1"})
    weighted = {k.split("/", 1)[1] for k in last if k.startswith("loss_weight/")}
    assert weighted == {"ce", "dice", "ses"}  # not one "task" term for CE + dice_weight * Dice


def test_without_ses_the_penalty_is_not_weighted():
    last = _last_report(**{"data.name": "digits"})
    assert {k for k in last if k.startswith(("loss_weight/", "loss_log_var/"))} == {"loss_weight/task",
                                                                                  "loss_log_var/task"}


def test_fixed_weighting_is_the_tasks_loss_plus_the_penalty_bit_for_bit():
    ce, dice = torch.tensor(0.7, requires_grad=True), torch.tensor(0.2, requires_grad=True)
    penalty = torch.tensor(0.05, requires_grad=True)
    losses = {"loss": ce + 1.5 * dice, "loss_ce": ce, "loss_dice": dice}  # the task's own weights of its parts
    total, metrics = FixedWeighting()(losses, penalty)
    assert torch.equal(total, losses["loss"] + penalty) and metrics == {}
    total.backward()
    assert (ce.grad.item(), dice.grad.item(), penalty.grad.item()) == (1.0, 1.5, 1.0)


@pytest.mark.parametrize("build", [FixedWeighting, lambda: TaskLossWeighting(ses=True)], ids=["fixed", "uncertainty"])
def test_either_weighting_serves_the_loop_alike(build):
    """What the loop and build_parts call, with no question of which weighting it is."""
    weighting = build()
    model = torch.nn.Parameter(torch.zeros(()))
    opt = torch.optim.SGD([model], lr=0.1)
    weighting.attach(opt)
    total, metrics = weighting({"loss": 2.0 + model}, torch.tensor(0.5))
    assert total.shape == () and all(k.startswith(("loss_weight/", "loss_log_var/")) for k in metrics)
    total.backward()
    opt.step()
    assert model.item() == pytest.approx(-0.1)  # at init every weight is 1: d total / d model = 1
    fresh = build()
    fresh.load_state_dict({k: v.clone() for k, v in weighting.state_dict().items()})
    fresh({"loss": torch.tensor(2.0)}, torch.tensor(0.5))
    assert fresh.state_dict().keys() == weighting.state_dict().keys()


def test_fixed_weighting_adds_nothing_to_train_save_or_log():
    weighting = FixedWeighting()
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(()))], lr=0.1)
    weighting.attach(opt)
    _, metrics = weighting({"loss": torch.tensor(1.0)}, torch.tensor(0.0))
    assert len(opt.param_groups) == 1 and list(weighting.parameters()) == [] and metrics == {}
    assert dict(weighting.state_dict()) == {}
    weighting.load_state_dict({})  # what a fixed run's checkpoint holds now (older ones hold nothing)
