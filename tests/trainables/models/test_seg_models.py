"""Segmentation models by name: small_unet at any size, smp architectures without a download, drop_rate placed."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from trainables.config import ModelConfig
from trainables.config.overrides import ConfigError
from trainables.models.seg_models import BACKGROUND_PRIOR, SEG_MODELS, build_seg_model, input_stride
from trainables.ses.hooks import hook_points


@pytest.mark.parametrize(("in_chans", "size"), [(1, 28), (3, 32), (1, 8), (3, 27)])
def test_small_unet_gives_a_logit_map_per_class_at_the_input_size(in_chans, size):
    model = build_seg_model(ModelConfig(name="small_unet"), num_classes=11, in_chans=in_chans)
    assert model(torch.randn(2, in_chans, size, size)).shape == (2, 11, size, size)


def test_small_unet_dropout_and_ses_hook_points():
    model = build_seg_model(ModelConfig(name="small_unet", drop_rate=0.15), num_classes=11, in_chans=1)
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout2d)] == [0.15]
    assert hook_points(model) == ["enc1", "enc2", "bottleneck", "dec2", "dec1"]


def test_smp_unet_resnet18_builds_offline_with_dropout_before_its_head():
    model = build_seg_model(ModelConfig(name="Unet", encoder="resnet18", drop_rate=0.2), num_classes=5, in_chans=3)
    head = model.segmentation_head
    assert isinstance(head[0], nn.Dropout2d) and head[0].p == 0.2 and isinstance(head[1], nn.Conv2d)
    model.eval()
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 5, 32, 32)


def test_state_dict_keys_do_not_depend_on_drop_rate():
    keys = [set(build_seg_model(ModelConfig(name="FPN", drop_rate=p), num_classes=3, in_chans=1).state_dict())
            for p in (0.0, 0.3)]
    assert keys[0] == keys[1]


def test_arch_names_match_case_insensitively_as_smp_does():
    assert input_stride(ModelConfig(name="fpn")) == input_stride(ModelConfig(name="FPN")) == 32
    assert input_stride(ModelConfig(name="DeepLabV3Plus")) == 16  # its encoder stops at output stride 16
    assert input_stride(ModelConfig(name="small_unet")) == 1


def test_timm_encoders_by_tu_prefix_and_unbuildable_pairs_refused():
    assert input_stride(ModelConfig(name="Unet", encoder="tu-resnet18")) == 1
    with pytest.raises(ConfigError, match="DPT cannot be built with encoder 'resnet18'"):
        input_stride(ModelConfig(name="DPT", encoder="resnet18"))


def test_table_lists_small_unet_and_the_smp_architectures():
    assert list(SEG_MODELS)[0] == "small_unet" and {"Unet", "FPN", "DeepLabV3Plus", "Segformer"} <= set(SEG_MODELS)


@pytest.mark.parametrize("name", ["small_unet", "Unet"])
def test_first_predictions_put_half_of_each_pixel_on_background(name):
    model = build_seg_model(ModelConfig(name=name), num_classes=11, in_chans=1)
    head = model.head if name == "small_unet" else model.segmentation_head[1]
    assert torch.softmax(head.bias, 0)[0].item() == pytest.approx(BACKGROUND_PRIOR)
