"""toy_mlp: logits of 2-D points from three hidden layers, each one an SES hook point; refused for images."""

import pytest
import torch
from torch import nn

from trainables.config import ModelConfig, SESConfig, TrainConfig
from trainables.config.overrides import ConfigError, apply_overrides
from trainables.models.by_name import build_model, is_known
from trainables.models.toy import DEPTH, WIDTH, ToyMLP
from trainables.ses import build_ses
from trainables.validate import validate


def toy(**kw) -> nn.Module:
    return build_model(ModelConfig(name="toy_mlp", **kw), num_classes=3, in_chans=2, image_size=0)


def test_outputs_logits_per_class_from_fixed_width_and_depth():
    model = toy()
    assert isinstance(model, ToyMLP) and is_known("toy_mlp")
    assert model(torch.randn(5, 2)).shape == (5, 3)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(2, WIDTH), (WIDTH, WIDTH), (WIDTH, WIDTH),
                                                                   (WIDTH, 3)]
    assert DEPTH == 3


def test_gets_drop_rate():
    assert [m.p for m in toy(drop_rate=0.3).modules() if isinstance(m, nn.Dropout)] == [0.3]


def test_ses_all_hooks_every_hidden_activation():
    torch.manual_seed(0)
    model = toy()
    ses = build_ses(model, SESConfig(enabled=True, layers="all"), total_steps=10)
    assert ses.layer_names == ["hidden1", "hidden2", "hidden3"]
    model.train()
    ses.begin_step(0)
    model(torch.randn(32, 2))
    penalty, metrics = ses.penalty(0)
    assert penalty.requires_grad and penalty.item() > 0
    assert {f"ses/entropy/hidden{i}" for i in (1, 2, 3)} <= set(metrics)
    ses.close()
    assert build_ses(toy(), SESConfig(enabled=True, layers="last:1"), total_steps=10).layer_names == ["hidden3"]


def test_refuses_images_and_checkpointing():
    with pytest.raises(ValueError, match="toy2d"):
        build_model(ModelConfig(name="toy_mlp"), num_classes=10, in_chans=1, image_size=28)
    with pytest.raises(ValueError, match="grad_checkpointing"):
        build_model(ModelConfig(name="toy_mlp"), num_classes=2, in_chans=2, image_size=0, grad_checkpointing=True)
    with pytest.raises(ConfigError, match=r"^model.name: 'toy_mlp' takes vectors .* digits"):
        validate(apply_overrides(TrainConfig(), {"model.name": "toy_mlp", "data.name": "digits"}), check_data=False)
