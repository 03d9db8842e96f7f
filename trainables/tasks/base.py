"""The `Task` protocol: what is trained and how it is scored (timm's `timm/task/classification.py` is the model).

A task owns its model, its training loss (with the targets it trains on), its metrics and which datasets it reads;
the loop, SES, EMA, monitors, checkpoints and the tuner know nothing else about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable, ClassVar, NamedTuple, Protocol

import torch
from torch import Tensor, nn

from hpstudy.schema.metrics import MetricSpec
from trainables.config import DataConfig, ModelConfig, TaskConfig, TrainConfig
from trainables.config.overrides import ConfigError, coerce

LossOut = dict[str, Tensor]  # "loss" (what backward sees) plus components worth logging, named "loss_<part>"
FEATURES = ("mixing", "label_smoothing", "randaugment", "robustness")  # loop features a task may support


class TrainTargets(NamedTuple):
    """What training pairs a batch with: `x, target = mix_fn(x, y)` when set, then `criterion(output, target)`."""

    mix_fn: Callable[[Tensor, Tensor], tuple[Tensor, Tensor]] | None
    criterion: Callable[[Tensor, Tensor], LossOut]


class Meter(Protocol):
    """Accumulates one split's metrics over its batches; `result()` is one read-back (keys without the split)."""

    def update(self, output: Tensor, y: Tensor, loss: Tensor | None = None) -> None: ...  # loss None: eval
    def result(self) -> dict[str, float]: ...  # {"loss": ..., "<metric name>": ...}
    def count(self) -> int: ...  # samples seen (images)


class DataShape(Protocol):
    """What a task needs to know of its data to build a model (a `DataBundle` is one)."""

    num_classes: int
    in_chans: int
    image_size: int


class Task:
    """Base of every task; a subclass sets the class attributes and implements the four methods."""

    name: ClassVar[str]
    data_kind: ClassVar[str]  # "labels" (one class per image) | "masks" (one class per pixel): datasets it reads
    metrics: ClassVar[tuple[MetricSpec, ...]]  # the lead metric first: what a study selects on by default
    supports: ClassVar[frozenset[str]] = frozenset()  # of FEATURES; validation refuses the others
    # Its own settings, name -> default (bool, int, float or str): `--set task.options.NAME=VALUE` or a search
    # space key `task.options.NAME`; read with `self.option(NAME)`. Any other name is refused in one line.
    options: ClassVar[Mapping[str, bool | int | float | str]] = {}
    flip_data: ClassVar[bool] = False  # with data.name=task: mirror training images (natural scenes, not digits)

    def __init__(self, cfg: TaskConfig) -> None:
        self.cfg = cfg
        given = dict(cfg.options)
        unknown = sorted(set(given) - set(self.options))
        if unknown:
            valid = ", ".join(self.options) or "none"
            raise ConfigError(f"task.options.{unknown[0]}: the {self.name} task has no such option (its options: "
                              f"{valid})")
        self._options = {k: coerce(given.get(k, v), type(v), f"task.options.{k}") for k, v in self.options.items()}

    def option(self, name: str) -> bool | int | float | str:
        """The value of one of `options`: the config's, else its default, of the default's type."""
        return self._options[name]

    @property
    def lead(self) -> MetricSpec:
        return self.metrics[0]

    def check(self, cfg: TrainConfig) -> None:
        """Raise ConfigError (one line) for a config this task cannot train (e.g. an unknown model name)."""

    def build_model(self, cfg: ModelConfig, data: DataShape, *, grad_checkpointing: bool) -> nn.Module:
        raise NotImplementedError

    def train_targets(self, cfg: TrainConfig, data: DataShape, *, batch_size: int) -> TrainTargets:
        raise NotImplementedError

    def meter(self, device: torch.device, data: DataShape) -> Meter:
        raise NotImplementedError

    def forward(self, model: nn.Module, x: Tensor) -> Tensor:
        """The model's output for a batch (train and eval alike)."""
        return model(x)

    def read_data(self, cfg: DataConfig, split: str) -> Any:
        """With `data.name=task`, the task's own data: for "train" and "test", a `RawImages` (uint8 (N, C, H, W)
        images, int64 labels, class names) or for a masks task a `RawMasks`; a masks task may give "val" too (None:
        the platform holds it out of "train"). The platform cuts the validation split (data.val_fraction,
        data.split_seed), normalizes, augments and batches it as its own datasets, so the recipe, SES, robustness and
        monitors work on it. Raise `trainables.data.DataError` (one line) for files it cannot read."""
        raise NotImplementedError

    def reads_data(self) -> bool:
        """Does this task read data of its own (it overrides read_data)?"""
        return type(self).read_data is not Task.read_data

    def chance(self, data: DataShape) -> float | None:
        """The lead metric of a model that learned nothing (the collapse monitor's floor); None: no such floor."""
        return None
