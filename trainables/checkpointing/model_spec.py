"""What a checkpoint needs to rebuild its model without the run's data: the resolved config (flat, as `--set` names
its keys) and the shape of the data the model was built for. Plain values only, so the checkpoint still loads with
`weights_only`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from trainables.config import TrainConfig
from trainables.config.overrides import apply_overrides, flatten
from trainables.tasks import build_task
from trainables.tasks.base import DataShape

KEY = "model_spec"  # the checkpoint's entry (trainables.checkpointing.checkpoint.capture's `extra`)


@dataclass(frozen=True)
class Shape:
    """A `DataShape` without the data: what `Task.build_model` reads of it."""

    num_classes: int
    in_chans: int  # image channels, or features of a vector input
    image_size: int  # pixels per side; 0: the inputs are vectors (toy2d, breast_cancer)


def spec(cfg: TrainConfig, data: DataShape) -> dict[str, Any]:
    """The checkpoint's entry for a run of the resolved `cfg` on `data`."""
    return {"config": flatten(cfg),
            "shape": {"num_classes": data.num_classes, "in_chans": data.in_chans, "image_size": data.image_size}}


def rebuild(state: Any) -> tuple[nn.Module, torch.Tensor] | None:
    """The checkpoint's model, built as the trainer builds it (its task's `build_model`, on the CPU) holding the
    checkpoint's weights, in eval mode, and an input of its shape (a batch of 2: a batch of 1 would pin the batch
    size of a traced graph). None when `state` holds no spec (a training function's own checkpoint, or one saved
    before the spec was kept)."""
    entry = state.get(KEY) if isinstance(state, dict) else None
    if entry is None or "model" not in state:
        return None
    cfg = apply_overrides(TrainConfig(), entry["config"])
    shape = Shape(**entry["shape"])
    model = build_task(cfg.task).build_model(cfg.model, shape, grad_checkpointing=False)
    model.load_state_dict(state["model"])
    size = (shape.image_size, shape.image_size) if shape.image_size > 0 else ()
    return model.eval(), torch.zeros(2, shape.in_chans, *size)
