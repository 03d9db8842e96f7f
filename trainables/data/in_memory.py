"""Datasets small enough to sit on the device as one uint8 tensor (MNIST-5k, digits, CIFAR-10/100,
Tiny-ImageNet).

Batches are gathered by index on the device and augmented there, so no DataLoader or worker is involved.
"""

from __future__ import annotations

from typing import Callable, Iterator

import torch
from torch import Tensor

from trainables.config import DataConfig
from trainables.data.batching import (
    ONE_PROCESS,
    Batch,
    BatchTransform,
    DataBundle,
    Shard,
    check_sizes,
    limit,
    measure_stats,
    split_indices,
    train_batch_size,
)
from trainables.data.sources import RawImages, Stats

Reader = Callable[[str, str], RawImages]  # (root, split) -> images


class TensorSource:
    """Train/val/test batches drawn from images held on `device` (CIFAR-100 train: 150 MB of uint8)."""

    def __init__(self, images: Tensor, labels: Tensor, train: Tensor, val: Tensor, transform: BatchTransform, *,
                 batch_size: int, eval_batch_size: int, seed: int, read_test: Callable[[], RawImages],
                 shard: Shard = ONE_PROCESS):
        self.images, self.labels = images, labels
        self.train_idx, self.val_idx = train, val  # CPU int64
        self.transform = transform
        self.shard = shard  # this process's share of each training step (data-parallel training)
        self.batch_size = train_batch_size(batch_size, len(train), shard.world)  # per worker
        self.eval_batch_size = eval_batch_size
        self.seed = seed
        self.read_test = read_test
        self._test: tuple[Tensor, Tensor] | None = None  # read and uploaded on first use, then kept

    def steps_per_epoch(self) -> int:
        return self.shard.steps(len(self.train_idx), self.batch_size)

    def train(self, epoch: int) -> Iterator[Batch]:
        order, gen = self.shard.epoch(self.train_idx, self.seed, epoch, self.batch_size)
        order = order.to(self.images.device)
        for step in range(self.steps_per_epoch()):
            idx = order[step * self.batch_size:(step + 1) * self.batch_size]
            yield self.transform.train(self.images[idx], gen), self.labels[idx]

    def val(self) -> Iterator[Batch]:
        order = self.val_idx.to(self.images.device)
        for start in range(0, len(order), self.eval_batch_size):
            idx = order[start:start + self.eval_batch_size]
            yield self.transform.normalize(self.images[idx]), self.labels[idx]

    def test(self) -> Iterator[Batch]:
        if self._test is None:  # read only when asked: training never touches the test split
            raw = self.read_test()
            self._test = (torch.from_numpy(raw.images).to(self.images.device),
                          torch.from_numpy(raw.labels).to(self.images.device))
        images, labels = self._test
        for start in range(0, len(images), self.eval_batch_size):
            stop = start + self.eval_batch_size
            yield self.transform.normalize(images[start:stop]), labels[start:stop]


def build_in_memory(cfg: DataConfig, seed: int, device: torch.device, *, read: Reader, flip: bool,
                    stats: Stats | None, extra_augment=None, shard: Shard = ONE_PROCESS) -> DataBundle:
    """Read, split and upload one in-memory dataset; `stats=None` measures mean/std on the training split."""
    raw = read(cfg.root, "train")
    images = torch.from_numpy(raw.images)
    train, val = split_indices(len(images), cfg.val_fraction, cfg.split_seed)
    check_sizes(cfg.name, len(train))
    if stats is None:
        stats = measure_stats(images[train])  # before limit_train, so smoke runs normalize like full ones
    train = limit(train, cfg.limit_train)
    _, chans, size, _ = images.shape
    transform = BatchTransform(stats, size, augment=cfg.augment, flip=flip, device=device, extra=extra_augment)
    source = TensorSource(
        images.to(device), torch.from_numpy(raw.labels).to(device), train, val, transform,
        batch_size=cfg.batch_size, eval_batch_size=cfg.eval_batch_size, seed=seed,
        read_test=lambda: read(cfg.root, "test"), shard=shard,
    )
    return DataBundle(num_classes=len(raw.classes), in_chans=chans, image_size=size, num_train=len(train),
                      num_val=len(val), source=source)
