"""EMA of the weights: timm's ModelEmaV3 against a hand-computed average, its device, and its checkpoint state."""

import pytest
import torch
from torch import nn

from trainables.config import EMAConfig
from trainables.recipe import build_ema

DECAY = 0.9  # large steps of the average, so N=6 updates show it


def weights_at(step: int) -> dict[str, torch.Tensor]:
    """Deterministic 'trained' weights after `step` optimizer updates of a Linear(3, 2)."""
    g = torch.Generator().manual_seed(step)
    return {"weight": torch.randn(2, 3, generator=g), "bias": torch.randn(2, generator=g)}


def hand_ema(steps: int, warmup: bool) -> dict[str, torch.Tensor]:
    ema = None
    for step in range(1, steps + 1):
        t = step - 1  # timm: max(0, step - update_after_step - 1)
        if t == 0:
            decay = 0.0  # the first update copies the weights
        elif warmup:
            decay = min(DECAY, 1 - (1 + t) ** (-2 / 3))  # warmup_gamma=1, warmup_power=2/3
        else:
            decay = DECAY
        w = weights_at(step)
        ema = {k: w[k].clone() if ema is None else decay * ema[k] + (1 - decay) * w[k] for k in w}
    return ema


@pytest.mark.parametrize("warmup", [False, True])
def test_matches_hand_computed_average(warmup):
    model = nn.Linear(3, 2)
    ema = build_ema(model, EMAConfig(enabled=True, decay=DECAY, warmup=warmup))
    for step in range(1, 7):  # the loop calls update(model, step=updates done) after each optimizer step
        model.load_state_dict(weights_at(step))
        ema.update(model, step=step)
    expected = hand_ema(6, warmup)
    for k, v in ema.module.state_dict().items():
        torch.testing.assert_close(v, expected[k])


def test_disabled_gives_none():
    # A bad decay is refused by trainables.validate, the one place the section is checked (test_validate.py).
    assert build_ema(nn.Linear(3, 2), EMAConfig(enabled=False)) is None


def test_copy_is_frozen_in_eval_mode_and_independent_of_the_model():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)).train()
    ema = build_ema(model, EMAConfig(enabled=True))
    assert not ema.module.training and not any(p.requires_grad for p in ema.parameters())
    with torch.no_grad():
        model[0].weight.add_(1.0)
    assert not torch.equal(ema.module[0].weight, model[0].weight)


def test_state_round_trips_through_a_checkpoint():
    model = nn.Linear(3, 2)
    ema = build_ema(model, EMAConfig(enabled=True, decay=DECAY))
    for step in range(1, 4):
        model.load_state_dict(weights_at(step))
        ema.update(model, step=step)
    state = {k: v.clone() for k, v in ema.state_dict().items()}
    fresh = build_ema(nn.Linear(3, 2), EMAConfig(enabled=True, decay=DECAY))
    fresh.load_state_dict(state)
    for (k, a), b in zip(ema.module.state_dict().items(), fresh.module.state_dict().values()):
        assert torch.equal(a, b), k


def _same_device(device):
    model = nn.Linear(3, 2).to(device)
    ema = build_ema(model, EMAConfig(enabled=True))
    ema.update(model, step=1)
    assert {p.device for p in ema.module.parameters()} == {next(model.parameters()).device}


def test_lives_on_the_model_device():
    _same_device("cpu")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_lives_on_the_model_device_cuda():
    _same_device("cuda")
