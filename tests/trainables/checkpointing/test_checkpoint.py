"""Checkpoints: a save/load round trip restores weights, optimizer, scaler, position and every RNG stream."""

import random

import numpy as np
import torch

from trainables.checkpointing import checkpoint


def _parts(seed: int = 0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    return model, optimizer, scaler


def _step(model, optimizer):
    model.train()
    optimizer.zero_grad()
    model(torch.randn(8, 4)).square().mean().backward()
    optimizer.step()


def _draws():
    return torch.rand(3).tolist(), np.random.rand(3).tolist(), [random.random() for _ in range(3)]


def test_save_load_restore_round_trip(tmp_path):
    model, optimizer, scaler = _parts()
    _step(model, optimizer)
    state = checkpoint.capture(model, optimizer, scaler, epoch=2, step=14, extra={"monitor": {"best": 0.5}},
                               history=[{"epoch": 1, "val/acc": 0.4}, {"epoch": 2, "val/acc": 0.5}])
    path = checkpoint.save(state, tmp_path)
    assert path.exists() and not list(tmp_path.glob("*.tmp"))  # written atomically
    expected_draws = _draws()
    _step(model, optimizer)  # continue, so the restored state must actually differ from the live one
    expected_next = [p.detach().clone() for p in model.parameters()]

    loaded = checkpoint.load(tmp_path)
    assert (loaded["epoch"], loaded["step"], loaded["monitor"]) == (2, 14, {"best": 0.5})
    fresh_model, fresh_optimizer, fresh_scaler = _parts(seed=1)
    checkpoint.restore(loaded, fresh_model, fresh_optimizer, fresh_scaler)
    assert _draws() == expected_draws  # torch, numpy and python RNGs all rewound
    for name, tensor in fresh_model.state_dict().items():
        assert torch.equal(tensor, loaded["model"][name]), name

    checkpoint.restore(checkpoint.load(tmp_path), fresh_model, fresh_optimizer, fresh_scaler)
    _draws()
    _step(fresh_model, fresh_optimizer)  # same weights, momentum and RNG -> the same next step
    for got, want in zip(fresh_model.parameters(), expected_next):
        assert torch.equal(got, want)


def test_load_without_checkpoint_is_none(tmp_path):
    assert checkpoint.load(tmp_path) is None


def test_save_overwrites_previous(tmp_path):
    model, optimizer, scaler = _parts()
    checkpoint.save(checkpoint.capture(model, optimizer, scaler, epoch=1, step=5, history=[]), tmp_path)
    checkpoint.save(checkpoint.capture(model, optimizer, scaler, epoch=2, step=10, history=[]), tmp_path)
    assert checkpoint.load(tmp_path)["epoch"] == 2


def test_captured_state_is_a_snapshot():
    model, optimizer, scaler = _parts()
    _step(model, optimizer)
    state = checkpoint.capture(model, optimizer, scaler, epoch=1, step=1, history=[])
    weight = state["model"]["0.weight"].clone()
    momentum = state["optimizer"]["state"][0]["momentum_buffer"].clone()
    _step(model, optimizer)
    assert torch.equal(state["model"]["0.weight"], weight)
    assert torch.equal(state["optimizer"]["state"][0]["momentum_buffer"], momentum)


def test_restore_leaves_the_state_untouched():
    model, optimizer, scaler = _parts()
    _step(model, optimizer)
    state = checkpoint.capture(model, optimizer, scaler, epoch=1, step=1, history=[])
    state["optimizer"] = {**state["optimizer"], "state": {  # a private copy, so only restore() can alias it
        i: {k: v.clone() for k, v in s.items()} for i, s in state["optimizer"]["state"].items()}}
    momentum = state["optimizer"]["state"][0]["momentum_buffer"].clone()
    fresh_model, fresh_optimizer, fresh_scaler = _parts(seed=1)
    checkpoint.restore(state, fresh_model, fresh_optimizer, fresh_scaler)
    _step(fresh_model, fresh_optimizer)
    assert torch.equal(state["optimizer"]["state"][0]["momentum_buffer"], momentum)
