"""Segmentation models by name: `small_unet` for CPU runs, or any segmentation-models-pytorch architecture.

Each maps (B, C, H, W) images to (B, num_classes, H, W) logits; weights are never downloaded.
"""

from __future__ import annotations

import math
from typing import Callable

import segmentation_models_pytorch as smp
import timm
import torch
import torch.nn.functional as F
from segmentation_models_pytorch.base import SegmentationModel
from torch import Tensor, nn

from trainables.config import ModelConfig
from trainables.config.overrides import ConfigError

BACKGROUND_PRIOR = 0.5  # initial predicted share of background (class 0); the other classes share the rest


def background_prior_(head: nn.Conv2d) -> None:
    """Bias the head so the first predictions put BACKGROUND_PRIOR on class 0 (RetinaNet's prior init).

    Segmentation data is mostly background: from uniform logits the first steps are spent learning that, and
    SGD's momentum overshoots into predicting background everywhere. On MNIST-seg (small_unet of width 8 and 16,
    64 SGD steps of 32 images, lr 0.1) val/fscore reached 0.19-0.50 with it and 0.03-0.12 without; priors of
    0.5, 0.86 (MNIST-seg's own share) and 0.9 did alike.
    """
    others = head.out_channels - 1
    with torch.no_grad():
        head.bias.zero_()
        head.bias[0] = math.log(BACKGROUND_PRIOR * others / (1 - BACKGROUND_PRIOR)) if others else 0.0


def _conv_bn_relu(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def _double(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(_conv_bn_relu(cin, cout), _conv_bn_relu(cout, cout))


class SmallUNet(nn.Module):
    """A two-level U-Net (widths w, 2w, 4w; double 3x3 convs per level), Dropout2d, then a 1x1 head.

    Two 2x2 poolings take 28x28 to 7x7 with a ~30 px receptive field at the bottleneck: every pixel sees its
    whole digit, which it needs to say which digit it belongs to. Upsampling interpolates to the skip's size, so
    any H, W works (odd sizes included).
    """

    hook_points = ["enc1", "enc2", "bottleneck", "dec2", "dec1"]  # SES `layers=all`: each level, in forward order

    def __init__(self, num_classes: int, in_chans: int, drop_rate: float = 0.0, width: int = 16) -> None:
        super().__init__()
        self.enc1 = _double(in_chans, width)
        self.enc2 = _double(width, 2 * width)
        self.bottleneck = _double(2 * width, 4 * width)
        self.dec2 = _double(4 * width + 2 * width, 2 * width)
        self.dec1 = _double(2 * width + width, width)
        self.drop = nn.Dropout2d(drop_rate)  # whole feature maps: neighbouring pixels are too correlated for Dropout
        self.head = nn.Conv2d(width, num_classes, 1)
        background_prior_(self.head)

    @staticmethod
    def _up(x: Tensor, skip: Tensor) -> Tensor:
        return torch.cat([F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False), skip], 1)

    def forward(self, x: Tensor) -> Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        b = self.bottleneck(F.max_pool2d(e2, 2))
        d1 = self.dec1(self._up(self.dec2(self._up(b, e2)), e1))
        return self.head(self.drop(d1))


# smp's architectures by class name (Unet, FPN, DeepLabV3Plus, ...), matched case-insensitively as smp does.
SMP_ARCHS: dict[str, type[SegmentationModel]] = {cls.__name__: cls for cls in smp.MODEL_ARCHITECTURES_MAPPING.values()}


def _small_unet(cfg: ModelConfig, num_classes: int, in_chans: int) -> nn.Module:
    return SmallUNet(num_classes, in_chans, cfg.drop_rate)


def _smp_model(cfg: ModelConfig, num_classes: int, in_chans: int) -> nn.Module:
    model = smp.create_model(cfg.name, encoder_name=cfg.encoder, encoder_weights=None, in_channels=in_chans,
                             classes=num_classes)
    # drop_rate as Dropout2d on the decoder's output, the segmentation head's input. Inserted even at 0 (a no-op
    # then) so the state-dict keys do not depend on drop_rate and a warm start can change it.
    model.segmentation_head = nn.Sequential(nn.Dropout2d(cfg.drop_rate), *model.segmentation_head)
    background_prior_(model.segmentation_head[1])
    return model


SEG_MODELS: dict[str, Callable[[ModelConfig, int, int], nn.Module]] = {
    "small_unet": _small_unet,
    **{name: _smp_model for name in SMP_ARCHS},
}


def _lookup(name: str) -> str:
    """The table's spelling of `name`; smp matches architectures case-insensitively, so this does too."""
    found = next((key for key in SEG_MODELS if key.lower() == name.lower()), None)
    if found is None:
        raise ConfigError(f"model.name: {name!r} is not a segmentation model; valid names: {', '.join(SEG_MODELS)}")
    return found


def _is_encoder(name: str) -> bool:
    if name.startswith("tu-"):
        return timm.is_model(name[3:])
    return name in smp.encoders.get_encoder_names()


def input_stride(cfg: ModelConfig) -> int:
    """What H and W must be divisible by for `cfg` (1: any size); ConfigError for an unknown model or encoder."""
    name = _lookup(cfg.name)
    if name == "small_unet":
        return 1
    if not _is_encoder(cfg.encoder):
        known = smp.encoders.get_encoder_names()
        raise ConfigError(f"model.encoder: {cfg.encoder!r} is not a segmentation-models-pytorch encoder; valid: "
                          f"{', '.join(known[:8])}, ... ({len(known)} in all: "
                          "segmentation_models_pytorch.encoders.get_encoder_names()) or 'tu-<timm model name>'")
    try:
        try:
            with torch.device("meta"):  # no memory and no init cost: only the encoder's output stride is read
                model = _smp_model(cfg, 2, 3)
        except RuntimeError as err:  # an encoder whose init reads values (mit_b*: .item()): build it for real
            if "meta" not in str(err):
                raise
            model = _smp_model(cfg, 2, 3)
    except Exception as err:  # noqa: BLE001 - smp rejects some arch/encoder pairs (DPT needs a ViT encoder)
        message = " ".join(str(err).split())
        raise ConfigError(f"model: {name} cannot be built with encoder {cfg.encoder!r}: {message}") from None
    return model.encoder.output_stride if model.requires_divisible_input_shape else 1


def check_input_size(cfg: ModelConfig, height: int, width: int, where: str) -> None:
    """ConfigError (one line) unless `cfg`'s model takes `where`'s height x width images."""
    stride = input_stride(cfg)
    if height % stride or width % stride:
        fit_h, fit_w = (-(-n // stride) * stride for n in (height, width))  # the next multiples of the stride
        raise ConfigError(f"model.name: {cfg.name} with encoder {cfg.encoder} needs H and W divisible by {stride} "
                          f"(the encoder's output stride), but {where} is {height}x{width}; resize to "
                          f"{fit_h}x{fit_w} (segfolder: data.image_size) or use small_unet (any size)")


def build_seg_model(cfg: ModelConfig, *, num_classes: int, in_chans: int) -> nn.Module:
    """`cfg.name` with `num_classes` output maps for `in_chans`-channel images; never downloads weights."""
    return SEG_MODELS[_lookup(cfg.name)](cfg, num_classes, in_chans)
