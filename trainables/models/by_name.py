"""Models by name: timm architectures adapted to small images as the seed experiments did, `small_cnn`, `wrn28_10`.

`small_cnn` trains in a few seconds per epoch on 2 CPU cores (the local profile); timm covers the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from trainables.config import ModelConfig
from trainables.models.quant import fake_quantize
from trainables.models.tabular import TABULAR_MLP, build_tabular_mlp
from trainables.models.toy import TOY_MLP, build_toy_mlp
from trainables.models.wrn import WRN28_10, wrn28_10

if TYPE_CHECKING:
    from timm.models.resnet import ResNet


def _conv_bn_relu(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class SmallCNN(nn.Module):
    """Four conv-BN-ReLU blocks (widths w, 2w, 4w, 8w; all but the first stride 2), global pool, dropout, head.

    Four blocks give a receptive field covering a whole 28x28 digit; with three, MNIST stalled near 65% train acc.
    """

    hook_points = ["block1", "block2", "block3", "block4"]  # SES `layers=all`; the pooled output would repeat block4

    def __init__(self, num_classes: int, in_chans: int, drop_rate: float = 0.0, width: int = 16) -> None:
        super().__init__()
        self.block1 = _conv_bn_relu(in_chans, width, 1)
        self.block2 = _conv_bn_relu(width, 2 * width, 2)
        self.block3 = _conv_bn_relu(2 * width, 4 * width, 2)
        self.block4 = _conv_bn_relu(4 * width, 8 * width, 2)
        self.global_pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.drop = nn.Dropout(drop_rate)
        self.fc = nn.Linear(8 * width, num_classes)

    def forward(self, x):
        x = self.global_pool(self.block4(self.block3(self.block2(self.block1(x)))))
        return self.fc(self.drop(x))


def _cifar_stem(model: ResNet, in_chans: int) -> None:
    """3x3 stride-1 stem and no max-pool: a 7x7/2 stem plus pool would shrink 32x32 inputs to 8x8 immediately."""
    if not isinstance(model.conv1, nn.Conv2d):
        raise ValueError(f"model.small_input supports ResNets with a single-conv stem; {type(model.conv1)} has a deep stem")
    model.conv1 = nn.Conv2d(in_chans, model.conv1.out_channels, 3, 1, 1, bias=False)
    model.maxpool = nn.Identity()


VECTOR_MODELS = (TOY_MLP, TABULAR_MLP)  # the models of vector data (data_inputs "vectors"); the rest take images


def is_known(name: str) -> bool:
    if name in ("small_cnn", WRN28_10, *VECTOR_MODELS):
        return True
    import timm  # timm (with torchvision) takes ~1.5 s to import: only a run that uses it pays

    return timm.is_model(name)


def is_vit(name: str) -> bool:
    return name.startswith(("vit_", "deit_"))


# Every conv and linear layer; transposed convs too (torch normalizes them along dim 1, their output channels).
SPECTRAL_NORM_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d,
                        nn.Linear)


def apply_spectral_norm(model: nn.Module) -> nn.Module:
    """Spectral normalization on the weight of every conv and linear module, the classifier head included.

    torch's parametrization on each module itself (seed 001 bug 5); the weight becomes
    `<module>.parametrizations.weight.original`, so state-dict keys differ from those of the same model without it.
    """
    for module in list(model.modules()):  # listed first: registering adds modules under `parametrizations`
        if isinstance(module, SPECTRAL_NORM_LAYERS):
            spectral_norm(module)
    return model


def build_model(cfg: ModelConfig, *, num_classes: int, in_chans: int, image_size: int,
                grad_checkpointing: bool = False) -> nn.Module:
    """`cfg.name` with `num_classes` outputs for `in_chans`-channel `image_size` images; never downloads weights."""
    model = _build(cfg, num_classes=num_classes, in_chans=in_chans, image_size=image_size,
                   grad_checkpointing=grad_checkpointing)
    if cfg.fake_quant:  # after the float model is built: the same weights, the same random draws
        model = fake_quantize(model, cfg.quant_bits)
    return apply_spectral_norm(model) if cfg.spectral_norm else model


def _build(cfg: ModelConfig, *, num_classes: int, in_chans: int, image_size: int,
           grad_checkpointing: bool) -> nn.Module:
    if cfg.name == TOY_MLP:  # 2-D points (data.name=toy2d): in_chans is the vector's length
        return build_toy_mlp(cfg, num_classes=num_classes, in_features=in_chans, image_size=image_size,
                             grad_checkpointing=grad_checkpointing)
    if cfg.name == TABULAR_MLP:  # feature vectors (data.name=breast_cancer): in_chans is the vector's length
        return build_tabular_mlp(cfg, num_classes=num_classes, in_features=in_chans, image_size=image_size,
                                 grad_checkpointing=grad_checkpointing)
    if cfg.name == WRN28_10:  # already a 32x32 network: no stem to adapt
        model = wrn28_10(num_classes=num_classes, in_chans=in_chans, drop_rate=cfg.drop_rate)
        model.set_grad_checkpointing(grad_checkpointing)
        return model
    if cfg.name == "small_cnn":
        if grad_checkpointing:
            raise ValueError("grad_checkpointing: small_cnn does not support it; use a timm model")
        return SmallCNN(num_classes, in_chans, cfg.drop_rate)
    import timm
    from timm.models.resnet import ResNet

    if not timm.is_model(cfg.name):
        raise ValueError(f"unknown model.name {cfg.name!r}: expected 'small_cnn', 'wrn28_10' or a timm model name "
                         f"(timm.list_models())")
    kwargs = dict(pretrained=False, num_classes=num_classes, in_chans=in_chans, drop_rate=cfg.drop_rate)
    if is_vit(cfg.name):
        # Patch 4 at 32x32 gives 64 tokens, as in seed 001's ViT-Tiny/Small/4; otherwise keep timm's patch size.
        kwargs["img_size"] = image_size
        if cfg.small_input:
            kwargs["patch_size"] = 4
    model = timm.create_model(cfg.name, **kwargs)
    if cfg.small_input and isinstance(model, ResNet):
        _cifar_stem(model, in_chans)
    if grad_checkpointing:
        model.set_grad_checkpointing(True)  # timm: recompute each block's activations in backward
    return model
