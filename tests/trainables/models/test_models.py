"""Models by name: small_cnn, timm ResNets with the small-input stem, ViTs with patch 4 at 32x32; spectral norm."""

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from trainables.config import ModelConfig, OptimConfig, TrainConfig
from trainables.config.overrides import ConfigError, apply_overrides
from trainables.models.by_name import SPECTRAL_NORM_LAYERS, apply_spectral_norm, build_model
from trainables.optim.optimizers import build_optimizer
from trainables.validate import validate


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


def _weight_layers(model):
    return {name: m for name, m in model.named_modules() if isinstance(m, SPECTRAL_NORM_LAYERS)}


@pytest.mark.parametrize("name", ["small_cnn", "resnet18", "vit_tiny_patch16_224"])
def test_spectral_norm_parametrizes_every_conv_and_linear_head_included(name):
    model = build_model(ModelConfig(name=name, spectral_norm=True), num_classes=10, in_chans=3, image_size=32)
    layers = _weight_layers(model)
    assert layers and all(parametrize.is_parametrized(m, "weight") for m in layers.values())
    assert not any(parametrize.is_parametrized(m) for m in model.modules()
                   if isinstance(m, (nn.BatchNorm2d, nn.LayerNorm)))  # norms keep their plain scales
    head = model.get_classifier() if hasattr(model, "get_classifier") else model.fc
    assert parametrize.is_parametrized(head, "weight")


def test_spectral_norm_is_off_by_default():
    model = build_model(ModelConfig(name="resnet18"), num_classes=10, in_chans=3, image_size=32)
    assert not any(parametrize.is_parametrized(m) for m in model.modules())


def test_spectral_norm_drives_each_layers_largest_singular_value_to_one():
    torch.manual_seed(0)
    model = build_model(ModelConfig(name="small_cnn", spectral_norm=True), num_classes=10, in_chans=3, image_size=32)
    with torch.no_grad():
        for _ in range(50):  # each training-mode forward takes one power-iteration step
            model(torch.randn(2, 3, 32, 32))
    model.eval()  # eval reuses the converged vectors
    for m in _weight_layers(model).values():
        weight = m.weight.detach()
        assert torch.linalg.matrix_norm(weight.reshape(weight.shape[0], -1), ord=2) == pytest.approx(1.0, abs=1e-3)


def test_spectral_norm_model_trains_a_step_and_reloads():
    torch.manual_seed(0)
    cfg = ModelConfig(name="small_cnn", spectral_norm=True)
    model = build_model(cfg, num_classes=10, in_chans=3, image_size=32)
    optimizer = build_optimizer(model, OptimConfig(lr=0.05))
    x, y = torch.randn(8, 3, 32, 32), torch.arange(8) % 10
    before = model.fc.parametrizations.weight.original.detach().clone()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss)
    assert not torch.equal(model.fc.parametrizations.weight.original, before)  # the raw weight is what is trained
    again = build_model(cfg, num_classes=10, in_chans=3, image_size=32)
    again.load_state_dict(model.state_dict())  # power-iteration vectors travel in the state dict
    model.eval(), again.eval()
    assert torch.equal(model(x), again(x))


def test_spectral_norm_normalizes_transposed_convs_along_output_channels():
    model = apply_spectral_norm(nn.Sequential(nn.ConvTranspose2d(4, 6, 3), nn.Conv1d(2, 3, 1)))
    assert all(parametrize.is_parametrized(m, "weight") for m in model)
    assert model[0].parametrizations.weight[0].dim == 1


def test_spectral_norm_is_reachable_from_set_and_validated():
    validate(apply_overrides(TrainConfig(), {"model.spectral_norm": "true"}), check_data=False)
    with pytest.raises(ConfigError, match="model.spectral_norm: not with grad_checkpointing"):
        validate(apply_overrides(TrainConfig(), {"model.spectral_norm": True, "model.name": "resnet18",
                                                 "grad_checkpointing": True}), check_data=False)
    with pytest.raises(ConfigError, match="model.spectral_norm: only the classification models"):
        validate(apply_overrides(TrainConfig(), {"model.spectral_norm": True, "task.name": "segmentation",
                                                 "data.name": "mnist_seg", "model.name": "small_unet"}),
                 check_data=False)
