"""Models by name: small_cnn, timm ResNets with the small-input stem, ViTs with patch 4 at 32x32."""

import pytest
import torch
from torch import nn

from trainables.config import ModelConfig
from trainables.models import build_model


@pytest.mark.parametrize(("in_chans", "size"), [(1, 28), (3, 32), (1, 8)])
def test_small_cnn_outputs_logits_per_class(in_chans, size):
    model = build_model(ModelConfig(name="small_cnn"), num_classes=7, in_chans=in_chans, image_size=size)
    assert model(torch.randn(2, in_chans, size, size)).shape == (2, 7)


def test_small_cnn_gets_drop_rate():
    model = build_model(ModelConfig(name="small_cnn", drop_rate=0.3), num_classes=10, in_chans=1, image_size=28)
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.3]


def test_resnet18_small_input_stem_on_grayscale():
    cfg = ModelConfig(name="resnet18", drop_rate=0.25, small_input=True)
    model = build_model(cfg, num_classes=10, in_chans=1, image_size=28)
    conv1 = model.conv1
    assert (conv1.in_channels, conv1.kernel_size, conv1.stride) == (1, (3, 3), (1, 1))
    assert isinstance(model.maxpool, nn.Identity)
    assert model.drop_rate == 0.25
    model.eval()
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_resnet18_without_small_input_keeps_imagenet_stem():
    model = build_model(ModelConfig(name="resnet18", small_input=False), num_classes=10, in_chans=3, image_size=32)
    assert (model.conv1.kernel_size, model.conv1.stride) == ((7, 7), (2, 2))
    assert isinstance(model.maxpool, nn.MaxPool2d)


def test_small_input_rejects_deep_stem_resnet():
    with pytest.raises(ValueError, match="deep stem"):
        build_model(ModelConfig(name="resnet18d"), num_classes=10, in_chans=3, image_size=32)


def test_vit_small_input_uses_patch_4_at_32px():
    cfg = ModelConfig(name="vit_tiny_patch16_224", drop_rate=0.2, small_input=True)
    model = build_model(cfg, num_classes=10, in_chans=3, image_size=32)
    assert model.patch_embed.num_patches == 64
    assert model.head_drop.p == 0.2
    model.eval()
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_vit_without_small_input_keeps_timm_patch_size():
    cfg = ModelConfig(name="vit_tiny_patch16_224", small_input=False)
    assert build_model(cfg, num_classes=10, in_chans=3, image_size=32).patch_embed.num_patches == 4


def test_unknown_model_name_is_named():
    with pytest.raises(ValueError, match="not_a_model_xyz"):
        build_model(ModelConfig(name="not_a_model_xyz"), num_classes=10, in_chans=3, image_size=32)
