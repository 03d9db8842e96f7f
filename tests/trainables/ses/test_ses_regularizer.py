"""The regularizer as the training loop uses it: null object, every_k, eval, metrics, grads, and its effect."""

import dataclasses
import math
import warnings

import pytest
import timm
import torch
from torch import nn

from trainables.config import SESConfig
from trainables.ses import NoSES, SESRegularizer, build_ses

ON = SESConfig(enabled=True, lam=0.1)


class Tiny(nn.Module):
    hook_points = ["fc"]

    def __init__(self, d_in=16, d_out=16):
        super().__init__()
        self.fc = nn.Linear(d_in, d_out)

    def forward(self, x):
        return self.fc(x)


def step_once(ses, model, x, step):
    ses.begin_step(step)
    out = model(x)
    return out, *ses.penalty(step)


def test_disabled_gives_a_zero_null_object():
    model = Tiny()
    ses = build_ses(model, SESConfig(enabled=False), total_steps=10)
    assert isinstance(ses, NoSES)
    _, value, metrics = step_once(ses, model, torch.randn(8, 16), 0)
    assert value.item() == 0.0 and value.ndim == 0 and metrics == {}
    assert len(model.fc._forward_hooks) == 0
    ses.close()


def test_resnet_penalty_is_differentiable_with_finite_grads():
    torch.manual_seed(0)
    model = timm.create_model("resnet18", num_classes=10, pretrained=False).train()
    ses = build_ses(model, dataclasses.replace(ON, beta=0.3), total_steps=10)
    assert isinstance(ses, SESRegularizer) and len(ses.layer_names) == 9
    x = torch.randn(16, 3, 16, 16)  # 16x16: the stride-32 net still ends at 1x1
    _, value, metrics = step_once(ses, model, x, 0)
    assert value.requires_grad and value.item() > 0
    value.backward()  # the penalty alone: one backward keeps this test to seconds on 2 cores
    assert model.conv1.weight.grad.abs().sum() > 0  # it reaches the first layer
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert all(torch.isfinite(g).all() for g in grads)
    assert set(metrics) == {"ses/penalty", "ses/beta"} | {f"ses/entropy/{n}" for n in ses.layer_names}
    assert not any(t.requires_grad for t in metrics.values())
    assert metrics["ses/beta"].item() == pytest.approx(0.3)
    ses.close()
    assert all(len(m._forward_hooks) == 0 for m in model.modules())


def test_penalty_value_matches_the_formula():
    torch.manual_seed(1)
    model = Tiny(16, 32)
    cfg = dataclasses.replace(ON, lam=0.5, beta_schedule="linear")
    ses = build_ses(model, cfg, total_steps=11)
    _, value, metrics = step_once(ses, model, torch.randn(64, 16), 5)  # mid-training: beta = 0.6
    h = metrics["ses/entropy/fc"].item()
    assert metrics["ses/beta"].item() == pytest.approx(0.6)
    assert value.item() == pytest.approx(0.5 * (h - 0.6 * math.log(32)) ** 2, rel=1e-5)


def test_every_k_captures_only_on_multiples():
    model = Tiny()
    ses = build_ses(model, dataclasses.replace(ON, every_k=3), total_steps=10)
    x = torch.randn(8, 16)
    captured = [step for step in range(8) if step_once(ses, model, x, step)[2]]
    assert captured == [0, 3, 6]


def test_eval_forward_is_not_captured_even_when_armed():
    model = Tiny()
    ses = build_ses(model, ON, total_steps=10)
    model.eval()
    _, value, metrics = step_once(ses, model, torch.randn(8, 16), 0)
    assert metrics == {} and value.item() == 0.0 and not value.requires_grad


def test_unreachable_target_warns_once_per_layer_and_clamps():
    model = Tiny(16, 64)
    ses = build_ses(model, dataclasses.replace(ON, beta=0.9), total_steps=10)
    x = torch.randn(8, 64 // 4)  # B=8: max log 7 < 0.9 log 64
    with pytest.warns(UserWarning, match="'fc'.*clamped"):
        _, value, metrics = step_once(ses, model, x, 0)
    h = metrics["ses/entropy/fc"].item()
    assert value.item() == pytest.approx(ON.lam * (h - math.log(7)) ** 2, rel=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        step_once(ses, model, x, 1)


def test_unreachable_target_error_mode_names_the_layer():
    model = Tiny(16, 64)
    ses = build_ses(model, dataclasses.replace(ON, beta=0.9, on_unreachable="error"), total_steps=10)
    with pytest.raises(ValueError, match=r"'fc'.*beta=0\.9.*B=8"):
        step_once(ses, model, torch.randn(8, 16), 0)


@pytest.mark.parametrize(
    "field, value, match",
    [("beta_schedule", "step", "beta_steps")],
)
def test_what_the_section_check_cannot_see_fails_at_build_time(field, value, match):
    # Every other value of the section is checked once, by trainables.validate (tests/trainables/test_validate.py).
    cfg = dataclasses.replace(ON, **{field: value}, beta_steps=())
    with pytest.raises((ValueError, KeyError), match=match):
        build_ses(Tiny(), cfg, total_steps=10)


def test_explicit_names_work_without_default_hook_points():
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 4))
    ses = build_ses(model, dataclasses.replace(ON, layers="0,2"), total_steps=10)
    _, _, metrics = step_once(ses, model, torch.randn(16, 8), 0)
    assert {"ses/entropy/0", "ses/entropy/2"} <= set(metrics)


@pytest.mark.parametrize("beta, shrink", [(0.3, False), (0.95, True)], ids=["pull down", "push up"])
def test_penalty_moves_entropy_to_target(beta, shrink):
    torch.manual_seed(0)
    model, x = Tiny(16, 16), torch.randn(64, 16)
    if shrink:  # start with a steep spectrum, far below a high target
        with torch.no_grad():
            model.fc.weight.mul_(torch.logspace(0, -2, 16)[:, None])
    ses = build_ses(model, dataclasses.replace(ON, lam=1.0, beta=beta), total_steps=30)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    target, gaps = beta * math.log(16), []
    for step in range(30):
        _, value, metrics = step_once(ses, model, x, step)
        gaps.append(abs(metrics["ses/entropy/fc"].item() - target))
        opt.zero_grad()
        value.backward()
        opt.step()
    assert gaps[0] > 0.5
    assert gaps[-1] < 0.1 * gaps[0]
