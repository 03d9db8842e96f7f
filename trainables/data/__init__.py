"""The data layer: `build_data(cfg, seed, device)` turns a `DataConfig` into a split, seeded `DataBundle`.

Nothing is downloaded; `check_root` validates a dataset's files up front (e.g. before launching a study).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import torch

from trainables.config import DataConfig
from trainables.data.batching import ONE_PROCESS, DataBundle, Shard
from trainables.data.breast_cancer import build_breast_cancer
from trainables.data.imagefolder import build_imagefolder, imagefolder_dir
from trainables.data.in_memory import build_in_memory
from trainables.data.seg_datasets import build_masks, read_mnist_seg
from trainables.data.segfolder import read_segfolder, segfolder_dir
from trainables.data.sources import (
    CIFAR10,
    CIFAR10_STATS,
    CIFAR100,
    CIFAR100_STATS,
    IMAGENET_STATS,
    MNIST_STATS,
    DataError,
    cifar_dir,
    read_cifar,
    read_digits,
    read_mnist5k,
)
from trainables.data.tiny_imagenet import read_tiny_imagenet, tiny_imagenet_dir
from trainables.data.toy2d import build_toy2d

__all__ = ["DATASETS", "ONE_PROCESS", "OWN_DATA", "DataBundle", "DataError", "Shard", "build_data", "check_root",
           "data_inputs", "data_kind"]


def _embedded(root: str) -> None:
    """Shipped inside an installed package: there is no root to check."""


@dataclass(frozen=True)
class _Dataset:
    build: Callable[[DataConfig, int, torch.device], DataBundle]
    check: Callable[[str], object]  # raises DataError when the root lacks the files `build` reads
    kind: str = "labels"  # what a batch's y is: "labels" (a class per image) | "masks" (a class per pixel)
    inputs: str = "images"  # what a batch's x is: "images" (B, C, H, W) | "vectors" (B, features): no crop,
    # flip, RandAugment or corruption applies to a vector


_TABLE: dict[str, _Dataset] = {
    # Digits are not mirror-invariant, so only natural images get the horizontal flip.
    "mnist5k": _Dataset(partial(build_in_memory, read=read_mnist5k, flip=False, stats=MNIST_STATS), _embedded),
    "digits": _Dataset(partial(build_in_memory, read=read_digits, flip=False, stats=None), _embedded),
    "cifar10": _Dataset(
        partial(build_in_memory, read=partial(read_cifar, CIFAR10), flip=True, stats=CIFAR10_STATS),
        partial(cifar_dir, CIFAR10),
    ),
    "cifar100": _Dataset(
        partial(build_in_memory, read=partial(read_cifar, CIFAR100), flip=True, stats=CIFAR100_STATS),
        partial(cifar_dir, CIFAR100),
    ),
    # Tiny-ImageNet is drawn from ImageNet: its statistics, as for image folders.
    "tiny_imagenet": _Dataset(
        partial(build_in_memory, read=read_tiny_imagenet, flip=True, stats=IMAGENET_STATS), tiny_imagenet_dir,
    ),
    "imagefolder": _Dataset(build_imagefolder, imagefolder_dir),
    # Masks: a class per pixel. Flipped only where every class survives mirroring (natural scenes, not digits);
    # segfolder measures its statistics on its training images, which all sit in memory anyway.
    "mnist_seg": _Dataset(partial(build_masks, read=read_mnist_seg, flip=False, stats=MNIST_STATS), _embedded,
                          kind="masks"),
    "segfolder": _Dataset(partial(build_masks, read=read_segfolder, flip=True, stats=None), segfolder_dir,
                          kind="masks"),
    # Two moons (scikit-learn), 2-D points: seed 001 Exp 4's toy set for κ of the input-logit Jacobian.
    "toy2d": _Dataset(build_toy2d, _embedded, inputs="vectors"),
    # Wisconsin breast cancer (scikit-learn), 30 features, binary: seed 004's tabular task (accuracy and AUC).
    "breast_cancer": _Dataset(build_breast_cancer, _embedded, inputs="vectors"),
}
OWN_DATA = "task"  # data.name: the task reads its own data (Task.read_data); the platform splits and batches it
DATASETS: tuple[str, ...] = (*_TABLE, OWN_DATA)


def _lookup(name: str) -> _Dataset:
    try:
        return _TABLE[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}") from None


def data_kind(name: str, task_kind: str = "labels") -> str:
    """'labels' or 'masks': the targets `name` gives, which a task must expect (Task.data_kind); a task's own data
    gives what the task trains on."""
    return task_kind if name == OWN_DATA else _lookup(name).kind


def data_inputs(name: str) -> str:
    """'images' or 'vectors': what `name`'s batches feed the model (image-only features refuse vectors)."""
    return "images" if name == OWN_DATA else _lookup(name).inputs


def check_root(name: str, root: str) -> None:
    """Raise DataError if `name`'s training files are not under `root`; reads no image data. A task's own data is
    checked by its reader, when the trial reads it."""
    if name != OWN_DATA:
        _lookup(name).check(root)


def build_data(cfg: DataConfig, seed: int, device: torch.device | str = "cpu", *,
               extra_augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
               shard: Shard = ONE_PROCESS, task=None) -> DataBundle:
    """Read, split (by cfg.split_seed) and place `cfg.name` on `device`; `seed` fixes batch order and augmentation.

    `extra_augment` (e.g. RandAugment) runs on each uint8 training batch after crop/flip, on the device; `shard`
    says which slice of every training step this process trains on (data-parallel training). `data.name=task`:
    `task.read_data(cfg, split)` reads the images (and labels or masks), split, normalized and batched as ours are.
    """
    kwargs = dict(extra_augment=extra_augment, shard=shard)
    if cfg.name == OWN_DATA:
        if task is None or not task.reads_data():
            raise DataError("data.name=task: the task reads no data of its own (define read_data(cfg, split) on "
                            "it), or pick one of the built-in datasets")
        if task.data_kind == "masks":
            return build_masks(cfg, seed, torch.device(device), read=task.read_data, flip=task.flip_data,
                               stats=None, **kwargs)
        return build_in_memory(cfg, seed, torch.device(device), read=lambda root, split: task.read_data(cfg, split),
                               flip=task.flip_data, stats=None, **kwargs)
    return _lookup(cfg.name).build(cfg, seed, torch.device(device), **kwargs)
