"""`toy2d`: scikit-learn's two moons, an embedded 2-D classification set for seed 001 Exp 4 (κ of the Jacobian).

Inputs are float 2-vectors, not images: crop, flip, RandAugment and corruptions cannot apply (trainables.validate
refuses them), and the bundle's `in_chans` is the vector's length (2) with `image_size` 0.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import Tensor

from trainables.config import DataConfig
from trainables.data.batching import ONE_PROCESS, DataBundle, Shard, check_sizes, limit, split_indices
from trainables.data.in_memory import TensorSource
from trainables.data.sources import DataError, RawImages, embedded_split

N_POINTS = 2000  # 1,600 train, 400 test (embedded_split's fixed 20%): the size of the other embedded sets
NOISE = 0.2  # std of the Gaussian noise on each coordinate: the moons overlap a little, so the boundary is learned
_GENERATOR_SEED = 0  # fixed forever: changing it would change every toy2d number
CLASSES = ("upper", "lower")  # make_moons' label 0 is the upper moon
FEATURES = 2


@functools.cache
def _moons() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_moons

    points, labels = make_moons(n_samples=N_POINTS, noise=NOISE, random_state=_GENERATOR_SEED)
    return points.astype(np.float32), labels.astype(np.int64)


def read_toy2d(root: str = "", split: str = "train") -> RawImages:
    """The two moons' `split` ("train" | "test") as float32 (N, 2) points (in `RawImages.images`) and labels;
    `root` is ignored."""
    points, labels = _moons()
    idx = embedded_split(labels, split)
    return RawImages(points[idx], labels[idx], CLASSES)


class PointTransform:
    """The points as they are. Not standardized: the moons are already of unit scale, and κ(J) is then measured
    in the plane the points live in (a per-axis rescaling would change it)."""

    def normalize(self, x: Tensor) -> Tensor:
        return x

    def train(self, x: Tensor, gen: torch.Generator) -> Tensor:
        return x

    def unit(self, x: Tensor) -> Tensor:
        raise DataError("toy2d: points are not images; they have no [0, 1] pixels to corrupt (rob.* is image-only)")


def build_toy2d(cfg: DataConfig, seed: int, device: torch.device, *, extra_augment=None,
                shard: Shard = ONE_PROCESS) -> DataBundle:
    """Split and upload the two moons; `extra_augment` must be None (validation refuses RandAugment here)."""
    if extra_augment is not None:
        raise DataError("toy2d: points are 2-vectors, not images; RandAugment cannot apply (recipe.randaugment_n=0)")
    raw = read_toy2d(cfg.root, "train")
    points = torch.from_numpy(raw.images)
    train, val = split_indices(len(points), cfg.val_fraction, cfg.split_seed)
    check_sizes(cfg.name, len(train))
    train = limit(train, cfg.limit_train)
    source = TensorSource(
        points.to(device), torch.from_numpy(raw.labels).to(device), train, val, PointTransform(),
        batch_size=cfg.batch_size, eval_batch_size=cfg.eval_batch_size, seed=seed,
        read_test=lambda: read_toy2d(cfg.root, "test"), shard=shard,
    )
    return DataBundle(num_classes=len(raw.classes), in_chans=FEATURES, image_size=0, num_train=len(train),
                      num_val=len(val), source=source)
