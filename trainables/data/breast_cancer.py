"""`breast_cancer`: scikit-learn's Wisconsin diagnostic breast-cancer set, real and shipped inside its wheel: 569
tumours x 30 features, malignant (0) vs benign (1); seed 004's binary tabular task, scored by accuracy and AUC.

Inputs are float 30-vectors, standardised per feature with the mean and std of the training indices only (the
validation and test rows never touch the statistics); crop, flip, RandAugment and corruptions cannot apply.
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

CLASSES = ("malignant", "benign")  # load_breast_cancer's target 0, 1 (212 and 357 tumours)
FEATURES = 30
STD_FLOOR = 1e-6  # a constant feature (possible in a tiny limit_train) is centred, not divided by zero


@functools.cache
def _table() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    return bunch.data.astype(np.float32), bunch.target.astype(np.int64)


def read_breast_cancer(root: str = "", split: str = "train") -> RawImages:
    """`split` ("train" | "test") as raw float32 (N, 30) features (in `RawImages.images`) and labels: the embedded
    sets' fixed stratified split (`embedded_split`: 20%, its fixed seed), 455 train and 114 test; `root` is ignored."""
    features, labels = _table()
    idx = embedded_split(labels, split)
    return RawImages(features[idx], labels[idx], CLASSES)


def train_stats(features: Tensor) -> tuple[Tensor, Tensor]:
    """Per-feature (mean, std) of the training rows (population std, as scikit-learn's StandardScaler)."""
    return features.mean(0), features.std(0, correction=0).clamp_min(STD_FLOOR)


class StandardTransform:
    """(x - mean) / std with the training rows' statistics, for train, validation and test batches alike."""

    def __init__(self, mean: Tensor, std: Tensor) -> None:
        self.mean, self.std = mean, std

    def normalize(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std

    def train(self, x: Tensor, gen: torch.Generator) -> Tensor:
        return self.normalize(x)

    def unit(self, x: Tensor) -> Tensor:
        raise DataError("breast_cancer: features are not images; they have no [0, 1] pixels to corrupt "
                        "(rob.* is image-only)")


def build_breast_cancer(cfg: DataConfig, seed: int, device: torch.device, *, extra_augment=None,
                        shard: Shard = ONE_PROCESS) -> DataBundle:
    """Split (data.val_fraction, data.split_seed), standardise on the training indices and upload the features."""
    if extra_augment is not None:
        raise DataError("breast_cancer: rows are feature vectors, not images; RandAugment cannot apply "
                        "(recipe.randaugment_n=0)")
    raw = read_breast_cancer(cfg.root, "train")
    features = torch.from_numpy(raw.images)
    train, val = split_indices(len(features), cfg.val_fraction, cfg.split_seed)
    check_sizes(cfg.name, len(train))
    mean, std = train_stats(features[train])  # before limit_train, so smoke runs standardise like full ones
    train = limit(train, cfg.limit_train)
    source = TensorSource(
        features.to(device), torch.from_numpy(raw.labels).to(device), train, val,
        StandardTransform(mean.to(device), std.to(device)),
        batch_size=cfg.batch_size, eval_batch_size=cfg.eval_batch_size, seed=seed,
        read_test=lambda: read_breast_cancer(cfg.root, "test"), shard=shard,
    )
    return DataBundle(num_classes=len(raw.classes), in_chans=FEATURES, image_size=0, num_train=len(train),
                      num_val=len(val), source=source)
