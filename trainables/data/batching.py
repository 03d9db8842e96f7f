"""What every data path shares: the seeded train/val split, per-epoch generators, and the on-device batch
transform (uint8 -> random crop/flip -> normalized float) behind the `DataBundle` the training loop consumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from trainables.data.sources import DataError, Stats

Batch = tuple[Tensor, Tensor]  # (x float32 normalized (B, C, H, W), y int64 (B,)), both on the bundle's device
_TRAIN_STREAM = 0x7EA1  # tags the train-order stream so (seed, epoch) never collides with other seeded uses
_AUGMENT_STREAM = 0xA06  # tags a rank's augmentation stream (data-parallel training: Shard)


def split_indices(n: int, val_fraction: float, split_seed: int) -> tuple[Tensor, Tensor]:
    """(train, val) int64 index tensors: a permutation by `split_seed`, its first round(n*val_fraction) held out."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"`0 <= val_fraction < 1` must hold, but got {val_fraction=}.")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(split_seed))
    n_val = int(round(n * val_fraction))
    return perm[n_val:], perm[:n_val]


def limit(train: Tensor, limit_train: int) -> Tensor:
    """The first `limit_train` of the (already shuffled) training indices; 0 keeps all."""
    return train[:limit_train] if limit_train > 0 else train


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """CPU generator for one epoch's order and augmentation: a resumed run at `epoch` replays the same batches."""
    if seed < 0 or epoch < 0:
        raise ValueError(f"`seed >= 0 and epoch >= 0` must hold, but got ({seed=}, {epoch=}).")
    # SeedSequence mixes the pair, so neighbouring (seed, epoch) pairs give unrelated streams.
    state = np.random.SeedSequence([seed, epoch, _TRAIN_STREAM]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state))


def train_batch_size(batch_size: int, num_train: int, world: int = 1) -> int:
    # drop_last keeps every step the same size; a training set smaller than one (global) batch becomes one short
    # batch rather than an epoch of zero steps.
    return max(1, min(batch_size, num_train // world))


@dataclass(frozen=True)
class Shard:
    """Which share of every training step this process trains on: rank `rank` of `world` (trainables.distributed).

    A step's global batch is `world` per-worker batches, cut from the epoch's permutation as one worker's batch of
    that size would be; rank r takes the r-th slice. So N workers with batch B see exactly the samples one worker
    with batch N*B sees, step by step. Augmentation draws from a generator of (seed, epoch, rank) then.
    """

    rank: int = 0
    world: int = 1

    def steps(self, num_train: int, batch_size: int) -> int:
        return num_train // (batch_size * self.world)  # drop_last: the remainder waits for a later epoch

    def epoch(self, train_idx: Tensor, seed: int, epoch: int, batch_size: int) -> tuple[Tensor, torch.Generator]:
        """(this rank's training indices for `epoch`, consecutive steps of `batch_size`; the generator its
        augmentation draws from)."""
        gen = epoch_generator(seed, epoch)
        order = train_idx[torch.randperm(len(train_idx), generator=gen)]
        if self.world == 1:  # order and augmentation share the epoch's generator, as they always have
            return order, gen
        steps = self.steps(len(train_idx), batch_size)
        mine = order[:steps * self.world * batch_size].view(steps, self.world, batch_size)[:, self.rank]
        state = np.random.SeedSequence([seed, epoch, self.rank, _AUGMENT_STREAM]).generate_state(1, dtype=np.uint64)
        return mine.reshape(-1), torch.Generator().manual_seed(int(state[0]))


ONE_PROCESS = Shard()  # every step whole: training without data parallelism


def random_crop(x: Tensor, pad: int, gen: torch.Generator) -> Tensor:
    """Per-image random crop of the zero-padded (by `pad` pixels each side) uint8 batch, back to (H, W)."""
    b, _, h, w = x.shape
    # Offsets are drawn on the CPU generator, so CPU and GPU runs see the same crops.
    dy, dx = torch.randint(0, 2 * pad + 1, (2, b), generator=gen).to(x.device)
    # A view of every (2p+1)^2 window, (B, C, 2p+1, 2p+1, H, W); indexing copies one window per image.
    windows = F.pad(x, (pad, pad, pad, pad)).unfold(2, h, 1).unfold(3, w, 1)
    return windows[torch.arange(b, device=x.device), :, dy, dx]


def random_hflip(x: Tensor, gen: torch.Generator) -> Tensor:
    """Mirror each image left-right with probability 1/2."""
    flip = (torch.rand(x.shape[0], generator=gen) < 0.5).to(x.device).view(-1, 1, 1, 1)
    return torch.where(flip, x.flip(3), x)


class BatchTransform:
    """uint8 batch on the device -> normalized float32, with crop (+ flip where labels allow it) for training."""

    def __init__(self, stats: Stats, image_size: int, *, augment: bool, flip: bool, device: torch.device,
                 extra: Callable[[Tensor, torch.Generator], Tensor] | None = None):
        mean, std = (torch.tensor(s, dtype=torch.float32, device=device).view(1, -1, 1, 1) for s in stats)
        self.scale = 1.0 / (255.0 * std)  # (x/255 - mean)/std == x*scale - shift: two passes over the batch
        self.shift = mean / std
        self.pad = max(1, image_size // 8)  # 4 px for 32x32, 3 for 28x28, 1 for 8x8
        self.augment = augment
        self.flip = flip  # off for digits: a mirrored 2, 3, 7 ... is not that digit
        self.extra = extra  # further uint8 augmentation after crop/flip (RandAugment), drawing from the same generator

    def normalize(self, x: Tensor) -> Tensor:
        return x.float().mul_(self.scale).sub_(self.shift)

    def unit(self, x: Tensor) -> Tensor:
        """Inverse of `normalize`: float32 pixels in [0, 1], snapped back onto the uint8 levels k / 255."""
        return ((x + self.shift) / self.scale).round_().clamp_(0, 255).div_(255)

    def train(self, x: Tensor, gen: torch.Generator) -> Tensor:
        if self.augment:
            x = random_crop(x, self.pad, gen)
            if self.flip:
                x = random_hflip(x, gen)
            if self.extra is not None:
                x = self.extra(x, gen)
        return self.normalize(x)


def measure_stats(images: Tensor) -> Stats:
    """Per-channel mean/std of uint8 (N, C, H, W) images scaled to [0, 1] (std floored so blank data works)."""
    x = images.double().div(255).transpose(0, 1).reshape(images.shape[1], -1)
    return tuple(x.mean(1).tolist()), tuple(x.std(1).clamp_min(1e-3).tolist())


class BatchSource(Protocol):
    transform: BatchTransform  # how val()/test() normalized their batches; DataBundle.raw_batches undoes it

    def train(self, epoch: int) -> Iterator[Batch]: ...
    def val(self) -> Iterator[Batch]: ...
    def test(self) -> Iterator[Batch]: ...
    def steps_per_epoch(self) -> int: ...


@dataclass(frozen=True)
class DataBundle:
    """One dataset, split and ready: sizes for building the model, and batch iterators for the loop."""

    num_classes: int
    in_chans: int
    image_size: int  # H (= W), pixels
    num_train: int  # after limit_train
    num_val: int
    source: BatchSource = field(repr=False, compare=False)

    def train_batches(self, epoch: int) -> Iterator[Batch]:
        """Shuffled, augmented, drop_last batches; the same for the same (run seed, epoch)."""
        return self.source.train(epoch)

    def val_batches(self) -> Iterator[Batch]:
        """Every held-out image once, in a fixed order, unaugmented."""
        return self.source.val()

    def test_batches(self) -> Iterator[Batch]:
        """The dataset's test split (for the embedded sets, their fixed held-out share), read on first use."""
        return self.source.test()

    def steps_per_epoch(self) -> int:
        return self.source.steps_per_epoch()

    def raw_batches(self, split: str = "val", max_images: int = 0) -> Iterator[Batch]:
        """The first `max_images` (0 = all) images of `split` ("val" | "test") as its batches give them, but as
        float32 in [0, 1] before normalization (to corrupt them first, trainables.robustness). Recovered from the
        normalized batches, so every source supports it; exact, as pixels are uint8 levels."""
        batches = {"val": self.source.val, "test": self.source.test}[split]()
        left = max_images if max_images > 0 else None
        for x, y in batches:
            if left is not None:
                x, y = x[:left], y[:left]
                left -= y.shape[0]
            yield self.source.transform.unit(x), y
            if left is not None and left <= 0:
                return

    def normalize(self, x01: Tensor) -> Tensor:
        """Float images in [0, 1] (e.g. from `raw_batches`) normalized as every batch of this bundle is."""
        return self.source.transform.normalize(x01 * 255)


def check_sizes(name: str, num_train: int) -> None:
    if num_train == 0:
        raise DataError(f"{name}: no training images left after the split; lower data.val_fraction")
