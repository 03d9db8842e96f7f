"""Checkpoints: a save/load round trip restores weights, optimizer, scaler, position and every RNG stream; the file
holds tensors and plain values only, and one that holds more (a tampered file) is refused without running it."""

import argparse
import os
import pickle
import random

import numpy as np
import pytest
import torch

from trainables.checkpointing import checkpoint, safe_load


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


def _marker_payload(marker):
    class Payload:  # what a tampered file holds: unpickling it would call os.system
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    return Payload()


def _state():
    model, optimizer, scaler = _parts()
    _step(model, optimizer)
    return checkpoint.capture(model, optimizer, scaler, epoch=1, step=1, history=[])


def _saved_state(tmp_path):
    return checkpoint.save(_state(), tmp_path)


def test_the_state_holds_tensors_and_plain_values_only(tmp_path):
    """So it loads with weights_only and no allow-list: numpy's and Python's RNG state too."""
    path = _saved_state(tmp_path)
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    rng = torch.load(path, weights_only=True)["rng"]
    assert isinstance(rng["numpy"]["keys"], torch.Tensor) and isinstance(rng["python"], list)


def test_a_loop_state_with_every_optional_part_loads_without_an_allow_list(tmp_path):
    from trainables import loop
    from trainables.config import TrainConfig
    from trainables.config.overrides import apply_overrides

    states = []

    class Keep:
        def restore(self):
            return None

        def report(self, metrics, state):
            states.append(state)

    cfg = apply_overrides(TrainConfig(), {
        "data.name": "digits", "data.limit_train": 256, "num_threads": 1, "epochs": 1, "ses.enabled": True,
        "ema.enabled": True, "loss_weighting": "uncertainty", "checkpoint.keep": "both", "monitor.patience": 3})
    threads = torch.get_num_threads()
    try:
        loop.run(cfg, Keep())
    finally:
        torch.set_num_threads(threads)
    path = checkpoint.save(states[-1], tmp_path)
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    assert {"ema", "best", "weighting", "monitor", "steady"} <= set(torch.load(path, weights_only=True))


@pytest.mark.parametrize("how", ["torch.save", "pickle.dump"])
def test_a_tampered_checkpoint_is_refused_in_one_line_and_its_payload_never_runs(tmp_path, how):
    path = _saved_state(tmp_path)
    marker = tmp_path / "payload_ran"
    tampered = {**_state(), "monitor": _marker_payload(marker)}
    if how == "torch.save":
        torch.save(tampered, path)
    else:
        with open(path, "wb") as f:
            pickle.dump(tampered, f)
    try:
        checkpoint.load(tmp_path)
        message = None
    except safe_load.UnsafeFile as err:
        message = str(err)
    assert not marker.exists(), "the pickled payload ran"
    assert message is not None and "\n" not in message and message.startswith(f"checkpoint: {path} holds ")
    if how == "torch.save":
        assert "posix.system" in message


def test_a_checkpoint_from_before_the_rng_state_was_a_tensor_still_resumes(tmp_path):
    """Its numpy state is numpy's own tuple (an array inside) and Python's a tuple: both are taken back."""
    old = _state()
    old["rng"] = {**old["rng"], "numpy": np.random.get_state(), "python": random.getstate()}
    torch.save(old, tmp_path / checkpoint.STATE_FILE)
    expected = _draws()
    model, optimizer, scaler = _parts()
    checkpoint.restore(checkpoint.load(tmp_path), model, optimizer, scaler)
    assert _draws() == expected


def test_a_state_a_resume_could_not_load_is_refused_when_saved(tmp_path):
    """A training function's own checkpoint with an object in it fails at its first save, not at its resume."""
    _saved_state(tmp_path)
    state = {**_state(), "epoch": 2, "user": {"args": argparse.Namespace(lr=0.1)}}
    with pytest.raises(safe_load.UnsafeFile, match=r"argparse\.Namespace.*vars\(args\)") as err:
        checkpoint.save(state, tmp_path)
    assert "\n" not in str(err.value)
    assert checkpoint.load(tmp_path)["epoch"] == 1 and sorted(p.name for p in tmp_path.iterdir()) == [
        checkpoint.HISTORY_FILE, checkpoint.STATE_FILE]  # the earlier checkpoint stays; no temporary file is left
    checkpoint.save({**state, "user": {"args": {"lr": 0.1}, "curve": np.arange(3.0), "acc": np.float64(0.5)}},
                    tmp_path)  # plain values and numpy arrays are read back
    assert checkpoint.load(tmp_path)["user"]["acc"] == 0.5
