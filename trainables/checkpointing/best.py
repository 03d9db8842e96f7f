"""The weights of the best epoch so far by one metric (`checkpoint.keep=best|both`), kept for the final test.

A null object (`NoBest`) stands in with `checkpoint.keep=last`, so the loop never branches on the setting.
"""

from __future__ import annotations

import math
from typing import Any

from torch import Tensor, nn

from trainables.config import CheckpointConfig


def cpu_weights(model: nn.Module) -> dict[str, Tensor]:
    # Copies, not views: on CPU .cpu() returns the live tensor, and kept weights must not train on.
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


class BestWeights:
    def __init__(self, metric: str, mode: str) -> None:
        if mode not in ("max", "min"):
            raise ValueError(f"checkpoint.mode: expected 'max' or 'min', got {mode!r}")
        self.metric, self.mode = metric, mode
        self.epoch, self.value = 0, -math.inf if mode == "max" else math.inf
        self.weights: dict[str, Tensor] | None = None

    def update(self, epoch: int, metrics: dict[str, Any], model: nn.Module) -> None:
        """Keep `model`'s weights if `epoch` is the best so far (ties keep the earlier epoch)."""
        if self.metric not in metrics:
            shown = ", ".join(sorted(k for k in metrics if "/" in k))
            raise ValueError(f"checkpoint.metric {self.metric!r} is not reported by this run; reported: {shown}")
        value = float(metrics[self.metric])
        if math.isnan(value):
            return
        if value > self.value if self.mode == "max" else value < self.value:
            self.epoch, self.value, self.weights = epoch, value, cpu_weights(model)

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "value": self.value, "model": self.weights}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self.value, self.weights = state["epoch"], state["value"], state["model"]


class NoBest:
    """checkpoint.keep=last: nothing to keep."""

    epoch, weights = 0, None

    def update(self, epoch: int, metrics: dict[str, Any], model: nn.Module) -> None:
        pass

    def state_dict(self) -> None:
        return None

    def load_state_dict(self, state: Any) -> None:
        pass


def build_best(cfg: CheckpointConfig) -> BestWeights | NoBest:
    return NoBest() if cfg.keep == "last" else BestWeights(cfg.metric, cfg.mode)
