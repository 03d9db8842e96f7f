"""Image folders (`root/<class>/<image>`) decoded by DataLoader workers into fixed-size uint8 batches, which
are then augmented and normalized on the device exactly like the in-memory datasets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import torch
from torch.utils.data import DataLoader, Dataset, Subset

from trainables.config import DataConfig
from trainables.data.batching import (
    ONE_PROCESS,
    Batch,
    BatchTransform,
    DataBundle,
    Shard,
    check_sizes,
    limit,
    split_indices,
    train_batch_size,
)
from trainables.data.sources import IMAGENET_STATS, DataError, imagefolder_dir

if TYPE_CHECKING:  # torchvision takes ~1.5 s to import: only a run that reads a folder pays it
    from torchvision import datasets

IMAGE_SIZE = 32  # pixels, when data.image_size is 0: every image is resized (aspect not kept) to a square


def open_folder(root: str, split: str = "train", image_size: int = IMAGE_SIZE) -> datasets.ImageFolder:
    """torchvision's ImageFolder yielding uint8 (3, image_size, image_size) tensors; no randomness in workers."""
    from torchvision import datasets, transforms

    folder = imagefolder_dir(root, split)
    to_uint8 = transforms.Compose([transforms.Resize((image_size, image_size)), transforms.PILToTensor()])
    try:
        return datasets.ImageFolder(str(folder), transform=to_uint8)  # its loader converts every image to RGB
    except FileNotFoundError as e:  # class folders exist but hold no image files
        raise DataError(f"imagefolder: no images at {folder}: expected <class>/<image> with one of "
                        f"{', '.join(datasets.folder.IMG_EXTENSIONS)}") from e


class FolderSource:
    """Train/val/test batches decoded by `num_workers` DataLoader processes, transformed on `device`."""

    def __init__(self, dataset: datasets.ImageFolder, train: torch.Tensor, val: torch.Tensor,
                 transform: BatchTransform, cfg: DataConfig, seed: int, device: torch.device, image_size: int,
                 shard: Shard = ONE_PROCESS):
        self.dataset, self.train_idx, self.val_idx = dataset, train, val
        self.transform, self.seed, self.device = transform, seed, device
        self.root, self.image_size = cfg.root, image_size
        self.shard = shard  # this process's share of each training step (data-parallel training)
        self.batch_size = train_batch_size(cfg.batch_size, len(train), shard.world)  # per worker
        self.eval_batch_size, self.num_workers = cfg.eval_batch_size, cfg.num_workers
        self._test: datasets.ImageFolder | None = None  # indexed on first use

    def _batches(self, dataset: Dataset, batch_size: int, drop_last: bool) -> Iterator[tuple[torch.Tensor, ...]]:
        # Order is fixed by the caller (a Subset in shuffled order), so worker scheduling cannot change batches.
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, drop_last=drop_last,
                            num_workers=self.num_workers, pin_memory=self.device.type == "cuda")
        for x, y in loader:
            yield x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)

    def steps_per_epoch(self) -> int:
        return self.shard.steps(len(self.train_idx), self.batch_size)  # drop_last, as for the in-memory datasets

    def train(self, epoch: int) -> Iterator[Batch]:
        order, gen = self.shard.epoch(self.train_idx, self.seed, epoch, self.batch_size)
        for x, y in self._batches(Subset(self.dataset, order.tolist()), self.batch_size, drop_last=True):
            yield self.transform.train(x, gen), y

    def val(self) -> Iterator[Batch]:
        for x, y in self._batches(Subset(self.dataset, self.val_idx.tolist()), self.eval_batch_size, False):
            yield self.transform.normalize(x), y

    def test(self) -> Iterator[Batch]:
        if self._test is None:
            self._test = open_folder(self.root, "test", self.image_size)
        test = self._test
        if test.classes != self.dataset.classes:  # labels are class-folder positions, so the sets must agree
            raise DataError(f"imagefolder: test classes {test.classes} at {test.root} differ from training "
                            f"classes {self.dataset.classes}")
        for x, y in self._batches(test, self.eval_batch_size, False):
            yield self.transform.normalize(x), y


def build_imagefolder(cfg: DataConfig, seed: int, device: torch.device, extra_augment=None,
                      shard: Shard = ONE_PROCESS) -> DataBundle:
    """Index the folder (no decoding yet), split it, and normalize with ImageNet statistics."""
    image_size = cfg.image_size or IMAGE_SIZE
    dataset = open_folder(cfg.root, "train", image_size)
    train, val = split_indices(len(dataset), cfg.val_fraction, cfg.split_seed)
    train = limit(train, cfg.limit_train)
    check_sizes(cfg.name, len(train))
    transform = BatchTransform(IMAGENET_STATS, image_size, augment=cfg.augment, flip=True, device=device,
                               extra=extra_augment)
    source = FolderSource(dataset, train, val, transform, cfg, seed, device, image_size, shard)
    return DataBundle(num_classes=len(dataset.classes), in_chans=3, image_size=image_size, num_train=len(train),
                      num_val=len(val), source=source)
