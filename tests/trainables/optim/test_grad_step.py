"""The optimizer step: one step per accumulated group, clipping on the true (unscaled) gradients, one scale update."""

import pytest
import torch
from torch import nn

from trainables.optim.grad_step import GradStep


def _disabled() -> torch.amp.GradScaler:
    return torch.amp.GradScaler("cpu", enabled=False)  # what fp32 and bf16 runs get


def _linear(seed: int = 0) -> tuple[nn.Linear, torch.optim.SGD, list[int]]:
    torch.manual_seed(seed)
    model = nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    steps = []
    optimizer.register_step_post_hook(lambda *_: steps.append(1))
    return model, optimizer, steps


def _loss(model: nn.Module, seed: int, scale: float = 1.0) -> torch.Tensor:
    torch.manual_seed(100 + seed)
    return scale * model(torch.randn(8, 4)).square().mean()


def _norm(model: nn.Module) -> float:
    return torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in model.parameters()])).item()


def test_with_fp32_it_is_the_plain_backward_and_step_bit_for_bit():
    plain, plain_opt, _ = _linear()
    ours, our_opt, _ = _linear()
    for i in range(3):
        plain_opt.zero_grad()
        _loss(plain, i).backward()
        nn.utils.clip_grad_norm_(plain.parameters(), 0.05)
        plain_opt.step()
        our_opt.zero_grad()
        GradStep(_disabled(), clip_grad=0.05)(_loss(ours, i), our_opt, ours.parameters())
    assert all(torch.equal(a, b) for a, b in zip(plain.parameters(), ours.parameters()))


def test_accumulated_backwards_add_up_and_step_once():
    model, optimizer, steps = _linear()
    grad_step = GradStep(_disabled())
    for i in range(3):
        grad_step.backward(_loss(model, i) / 3)
    assert steps == []
    expected = [p.grad.clone() for p in model.parameters()]
    reference, _, _ = _linear()
    whole = sum(_loss(reference, i) for i in range(3)) / 3  # one backward of the mean: the same gradient
    whole.backward()
    assert all(torch.allclose(a, p.grad) for a, p in zip(expected, reference.parameters()))
    grad_step.step(optimizer, model.parameters())
    assert steps == [1]


def test_clipping_bounds_the_gradient_norm_and_zero_leaves_it():
    model, optimizer, _ = _linear()
    GradStep(_disabled(), clip_grad=0.01)(_loss(model, 0, scale=100.0), optimizer, model.parameters())
    assert _norm(model) == pytest.approx(0.01, rel=1e-4)
    model, optimizer, _ = _linear()
    GradStep(_disabled(), clip_grad=0.0)(_loss(model, 0, scale=100.0), optimizer, model.parameters())
    assert _norm(model) > 1.0


def test_only_the_given_parameters_are_clipped():
    model, optimizer, _ = _linear()
    extra = nn.Parameter(torch.zeros(()))
    optimizer.add_param_group({"params": [extra]})  # as the learned loss weights join the model's optimizer
    loss = _loss(model, 0, scale=100.0) + 50.0 * extra
    GradStep(_disabled(), clip_grad=0.01)(loss, optimizer, model.parameters())
    assert extra.grad.item() == 50.0 and extra.item() == pytest.approx(-5.0)  # stepped, at lr 0.1, unclipped


def test_fp16_clips_the_unscaled_gradients_and_skips_a_step_on_inf():
    model, optimizer, _ = _linear()
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
    grad_step = GradStep(scaler, clip_grad=0.01)
    grad_step(_loss(model, 0, scale=100.0), optimizer, model.parameters())
    assert _norm(model) == pytest.approx(0.01, rel=1e-4)  # not 2**10 times that
    before = [p.detach().clone() for p in model.parameters()]
    optimizer.zero_grad()
    grad_step(_loss(model, 1) * float("inf"), optimizer, model.parameters())
    assert all(torch.equal(a, p) for a, p in zip(before, model.parameters()))
    assert scaler.get_scale() < 2.0**10  # the scaler backed off


class _FakeScaler:
    """Records the GradScaler calls; scale passes the loss through, step steps."""

    def __init__(self):
        self.calls = []

    def scale(self, loss):
        self.calls.append("scale")
        return loss

    def unscale_(self, optimizer):
        self.calls.append("unscale_")

    def step(self, optimizer):
        self.calls.append("step")
        optimizer.step()

    def update(self):
        self.calls.append("update")


@pytest.mark.parametrize("clip, per_step", [(1.0, ["unscale_", "step", "update"]), (0.0, ["step", "update"])])
def test_each_optimizer_step_unscales_steps_and_updates_once(clip, per_step):
    model, optimizer, steps = _linear()
    scaler = _FakeScaler()
    grad_step = GradStep(scaler, clip_grad=clip)
    for step in range(2):
        for micro in range(3):
            grad_step.backward(_loss(model, 3 * step + micro) / 3)
        grad_step.step(optimizer, model.parameters())
    assert scaler.calls == 2 * (3 * ["scale"] + per_step) and steps == [1, 1]


def test_a_negative_clip_is_refused_with_its_value():
    with pytest.raises(ValueError, match="clip_grad=-1"):
        GradStep(_disabled(), clip_grad=-1.0)
