"""An exponential moving average of the weights (timm `ModelEmaV3`), evaluated beside the model as val/acc_ema.

The EMA is an `nn.Module` holding its copy in `.module`; `state_dict()`/`load_state_dict()` carry it in checkpoints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import nn

from trainables.config import EMAConfig

if TYPE_CHECKING:
    from timm.utils import ModelEmaV3

__all__ = ["build_ema"]


def build_ema(model: nn.Module, cfg: EMAConfig) -> ModelEmaV3 | None:
    """A copy of `model` (same device and dtype, eval mode) averaged by `ema.update(model, step=updates_done)`.

    Build it after the model is on its device and before hooks are attached (e.g. SES): the copy is a deepcopy,
    so hooks present now would be copied too. With `step`, timm copies the weights outright on the first update
    (step=1), then averages with decay `cfg.decay`, or, with `cfg.warmup`, with
    min(cfg.decay, 1 - (1 + t) ** (-2/3)) where t = step - 1 (0.9 by t=30, 0.99 by t=1000, 0.9999 by t=1e6).
    """
    if not cfg.enabled:
        return None
    from timm.utils import ModelEmaV3  # timm (with torchvision) takes ~1.5 s to import: only a run that uses it pays

    ema = ModelEmaV3(model, decay=cfg.decay, use_warmup=cfg.warmup)
    return ema.requires_grad_(False)  # only ever evaluated; no optimizer or backward should see these weights
