"""tabular_mlp: logits of feature vectors through a 64 -> 32 funnel with dropout after each hidden layer; refused
for images; toy_mlp keeps its own shape."""

import pytest
import torch
from torch import nn

from trainables.config import ModelConfig, SESConfig, TrainConfig
from trainables.config.overrides import ConfigError, apply_overrides
from trainables.models.by_name import build_model, is_known
from trainables.models.tabular import WIDTHS, TabularMLP
from trainables.models.toy import WIDTH
from trainables.ses import build_ses
from trainables.validate import validate


def tabular(**kw) -> nn.Module:
    return build_model(ModelConfig(name="tabular_mlp", **kw), num_classes=2, in_chans=30, image_size=0)


def test_outputs_logits_from_the_funnel():
    model = tabular()
    assert isinstance(model, TabularMLP) and is_known("tabular_mlp")
    assert model(torch.randn(5, 30)).shape == (5, 2)
    linears = [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, nn.Linear)]
    assert linears == [(30, 64), (64, 32), (32, 2)] and WIDTHS == (64, 32)


def test_drop_rate_applies_after_every_hidden_layer_in_training_only():
    torch.manual_seed(0)
    model, x = tabular(drop_rate=0.5), torch.randn(8, 30)
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.5]
    model.train()
    assert not torch.equal(model(x), model(x))
    model.eval()
    assert torch.equal(model(x), model(x))
    calls = []
    model.drop.register_forward_hook(lambda *_: calls.append(1))
    model(x)
    assert len(calls) == len(WIDTHS)  # after each hidden layer, not only before the head (toy_mlp)


def test_ses_hooks_the_hidden_layers():
    ses = build_ses(tabular(), SESConfig(enabled=True, layers="all"), total_steps=10)
    assert ses.layer_names == ["hidden1", "hidden2"]
    ses.close()


def test_toy_mlp_is_unchanged():
    toy = build_model(ModelConfig(name="toy_mlp"), num_classes=2, in_chans=30, image_size=0)
    assert [m.out_features for m in toy.modules() if isinstance(m, nn.Linear)] == [WIDTH, WIDTH, WIDTH, 2]


def test_refuses_images_and_checkpointing():
    with pytest.raises(ValueError, match="breast_cancer"):
        build_model(ModelConfig(name="tabular_mlp"), num_classes=10, in_chans=1, image_size=28)
    with pytest.raises(ValueError, match="grad_checkpointing"):
        build_model(ModelConfig(name="tabular_mlp"), num_classes=2, in_chans=30, image_size=0,
                    grad_checkpointing=True)
    with pytest.raises(ConfigError, match=r"^model.name: 'tabular_mlp' takes vectors .* digits"):
        validate(apply_overrides(TrainConfig(), {"model.name": "tabular_mlp", "data.name": "digits"}),
                 check_data=False)
