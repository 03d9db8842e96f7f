"""A checkpoint's model spec: the model rebuilt from it without the data holds the checkpoint's weights and answers an
input of its shape, for images and for vectors; a state without one (a function's own) rebuilds nothing."""

from __future__ import annotations

import pytest
import torch

from trainables.checkpointing import model_spec
from trainables.config import TrainConfig
from trainables.config.overrides import apply_overrides
from trainables.defaults import resolve
from trainables.tasks import build_task


@pytest.mark.parametrize(("overrides", "shape", "example"), [
    ({"model.name": "small_cnn", "model.drop_rate": 0.2}, model_spec.Shape(10, 1, 28), (2, 1, 28, 28)),
    ({"model.name": "tabular_mlp", "data.name": "breast_cancer"}, model_spec.Shape(2, 30, 0), (2, 30)),
])
def test_the_rebuilt_model_holds_the_checkpoints_weights(overrides, shape, example):
    cfg = resolve(apply_overrides(TrainConfig(), overrides))
    torch.manual_seed(0)
    trained = build_task(cfg.task).build_model(cfg.model, shape, grad_checkpointing=False).eval()
    state = {"model": trained.state_dict(), model_spec.KEY: model_spec.spec(cfg, shape)}
    model, x = model_spec.rebuild(state)
    assert tuple(x.shape) == example and not model.training
    assert all(torch.equal(model.state_dict()[k], v) for k, v in trained.state_dict().items())
    with torch.no_grad():
        assert torch.equal(model(x), trained(x))


def test_a_state_without_a_spec_rebuilds_nothing():
    assert model_spec.rebuild({"model": {}, "epoch": 1}) is None  # saved before the spec was kept
    assert model_spec.rebuild({"epoch": 1, "acc": 0.5}) is None  # a training function's own
    assert model_spec.rebuild([1, 2]) is None  # a function's state may be any plain value
