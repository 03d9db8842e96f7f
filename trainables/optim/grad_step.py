"""The optimizer step in one place: scale the loss, backward, then unscale, clip the gradient norm, step, update.

Built once per run from the precision's GradScaler and the clipping setting; the loop, the LR range test and the
benchmark call it. Shaped after timm's `NativeScaler` (timm/utils/cuda.py), which does not fit as it is: it makes
its own, always enabled GradScaler (no `enabled=`; ours would be reachable only through its private `_scaler`), so
fp32 and bf16 runs would scale their losses and skip steps on inf gradients, and the scaler the checkpoint saves
(`Precision.scaler`) would not be the one that trained. It also takes the clipping setting on every call.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn


class GradStep:
    """`backward(loss)` per micro-batch, `step(optimizer, parameters)` once per optimizer step; `__call__` does both.

    With accumulation the gradients of several backwards add up, and the one step unscales and clips their sum.
    """

    def __init__(self, scaler: torch.amp.GradScaler, *, clip_grad: float = 0.0) -> None:
        if clip_grad < 0:
            raise ValueError(f"`clip_grad >= 0` must hold (0: no clipping), but got ({clip_grad=}).")
        self.scaler = scaler  # enabled only for fp16; disabled, each of its calls is a no-op or a plain step
        self.clip_grad = clip_grad  # max global L2 norm of the gradients; 0: no clipping

    def backward(self, loss: Tensor) -> None:
        self.scaler.scale(loss).backward()

    def step(self, optimizer: torch.optim.Optimizer, parameters: Iterable[Tensor]) -> None:
        """Unscale and clip `parameters`' gradients (when clipping), step `optimizer`, update the scale.

        `parameters` may be a generator: it is read only when clipping. Only the step, not the clipping, covers
        what `optimizer` trains beside them (the learned loss weights, trainables.optim.uncertainty).
        """
        if self.clip_grad > 0:
            self.scaler.unscale_(optimizer)  # clip the true gradients; step() then skips unscaling them again
            nn.utils.clip_grad_norm_(parameters, self.clip_grad)
        self.scaler.step(optimizer)  # fp16: skipped when a gradient is inf or NaN
        self.scaler.update()

    def __call__(self, loss: Tensor, optimizer: torch.optim.Optimizer, parameters: Iterable[Tensor]) -> None:
        """One micro-batch per optimizer step: backward, then step."""
        self.backward(loss)
        self.step(optimizer, parameters)
