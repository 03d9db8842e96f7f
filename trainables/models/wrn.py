"""WideResNet-28-10 for 32x32 images (Zagoruyko & Komodakis 2016), the network of seed 001's Exp 13; timm has none.

Pre-activation basic blocks (BN-ReLU-conv3x3, dropout, BN-ReLU-conv3x3), widths 160/320/640 at 32/16/8 pixels.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

WRN28_10 = "wrn28_10"


class PreActBlock(nn.Module):
    """BN-ReLU-conv3x3(stride) [dropout] BN-ReLU-conv3x3, plus the input (1x1 conv when the shape changes)."""

    def __init__(self, cin: int, cout: int, stride: int, drop_rate: float) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.drop = nn.Dropout(drop_rate)  # between the convs, where the paper puts it (0.3 in its CIFAR runs)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        same = cin == cout and stride == 1
        self.shortcut = None if same else nn.Conv2d(cin, cout, 1, stride, 0, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        pre = self.relu(self.bn1(x))
        # A projection reads the pre-activated input, as in the reference code: both paths see normalized features.
        skip = x if self.shortcut is None else self.shortcut(pre)
        out = self.conv2(self.drop(self.relu(self.bn2(self.conv1(pre)))))
        return out + skip


class WideResNet(nn.Module):
    """WRN-`depth`-`widen`: a 3x3 stem of 16 channels, three groups of (depth - 4) / 6 blocks, BN-ReLU, pool, head."""

    def __init__(self, *, depth: int, widen: int, num_classes: int, in_chans: int = 3, drop_rate: float = 0.0) -> None:
        super().__init__()
        if (depth - 4) % 6:
            raise ValueError(f"WideResNet depth must be 6n + 4, got {depth=}")
        blocks = (depth - 4) // 6
        widths = (16 * widen, 32 * widen, 64 * widen)
        self.depth, self.widen = depth, widen
        self.stem = nn.Conv2d(in_chans, 16, 3, 1, 1, bias=False)
        cin = 16
        for g, (width, stride) in enumerate(zip(widths, (1, 2, 2)), start=1):
            layer = [PreActBlock(cin if i == 0 else width, width, stride if i == 0 else 1, drop_rate)
                     for i in range(blocks)]
            setattr(self, f"layer{g}", nn.Sequential(*layer))
            cin = width
        self.bn = nn.BatchNorm2d(cin)
        self.relu = nn.ReLU(inplace=True)
        self.global_pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(cin, num_classes)
        # SES `layers=all`: every residual block, then the pooled features (12 + 1 = 13 for WRN-28-10, seed 001).
        self.hook_points = [f"layer{g}.{i}" for g in (1, 2, 3) for i in range(blocks)] + ["global_pool"]
        self.grad_checkpointing = False
        self._init_weights()

    def _init_weights(self) -> None:
        # The reference code's init: He-normal (fan_out) convs, unit BN scales, zero biases.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """timm's interface: recompute each residual block's activations in backward."""
        self.grad_checkpointing = enable

    def forward(self, x: Tensor) -> Tensor:
        x = self.stem(x)
        for layer in (self.layer1, self.layer2, self.layer3):
            for block in layer:
                if self.grad_checkpointing and self.training and torch.is_grad_enabled():
                    x = checkpoint(block, x, use_reentrant=False)
                else:
                    x = block(x)
        return self.fc(self.global_pool(self.relu(self.bn(x))))


def wrn28_10(*, num_classes: int, in_chans: int = 3, drop_rate: float = 0.0) -> WideResNet:
    """WRN-28-10; depth and width are literals here, never read from an enclosing scope (seed 001 bug 7)."""
    return WideResNet(depth=28, widen=10, num_classes=num_classes, in_chans=in_chans, drop_rate=drop_rate)
