"""toy2d: the same two moons on every call, split like the other embedded sets, batched as raw 2-vectors; the
image-only features are refused up front, in one line naming the key."""

import numpy as np
import pytest
import torch

from trainables.config import DataConfig, TrainConfig
from trainables.config.overrides import ConfigError, apply_overrides
from trainables.data import DataError, build_data, data_inputs
from trainables.data.toy2d import N_POINTS, read_toy2d
from trainables.validate import validate

TOY = {"data.name": "toy2d", "model.name": "toy_mlp", "data.augment": False}


def test_points_are_deterministic_and_split_like_the_other_embedded_sets():
    train, test = read_toy2d(split="train"), read_toy2d(split="test")
    assert train.images.shape == (1600, 2) and test.images.shape == (400, 2) and train.images.dtype == np.float32
    assert len(train.labels) + len(test.labels) == N_POINTS
    assert np.bincount(train.labels).tolist() == [800, 800] and np.bincount(test.labels).tolist() == [200, 200]
    assert np.array_equal(read_toy2d(split="train").images, train.images)
    shared = {tuple(p) for p in train.images} & {tuple(p) for p in test.images}
    assert not shared
    assert 1.0 < np.abs(train.images).max() < 3.0  # of unit scale: the batches feed them unnormalized


def test_bundle_batches_the_points_as_they_are():
    data = build_data(DataConfig(name="toy2d", augment=False, batch_size=64), seed=0)
    assert (data.num_classes, data.in_chans, data.image_size) == (2, 2, 0)
    assert data.num_train + data.num_val == 1600 and data.num_val == 160
    x, y = next(iter(data.train_batches(0)))
    assert x.shape == (64, 2) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert torch.equal(x, next(iter(data.train_batches(0)))[0])  # same (seed, epoch): same batch
    val = torch.cat([b for b, _ in data.val_batches()])
    points = torch.from_numpy(read_toy2d(split="train").images)
    assert all((points == p).all(1).any() for p in val[:8])  # not normalized: the points themselves
    assert sum(len(y) for _, y in data.test_batches()) == 400


def test_vectors_have_no_pixels_for_the_image_only_paths():
    assert data_inputs("toy2d") == "vectors" and data_inputs("digits") == "images"
    data = build_data(DataConfig(name="toy2d", augment=False), seed=0)
    with pytest.raises(DataError, match="not images"):
        next(data.raw_batches("val"))
    with pytest.raises(DataError, match="RandAugment"):
        build_data(DataConfig(name="toy2d"), seed=0, extra_augment=lambda x, gen: x)


def test_a_toy2d_config_is_valid():
    validate(apply_overrides(TrainConfig(), {**TOY, "ses.enabled": True, "eval.jacobian": True,
                                             "recipe.mixup_alpha": 0.2}))


@pytest.mark.parametrize(("key", "value"), [
    ("data.augment", True),
    ("recipe.randaugment_n", 2),
    ("recipe.cutmix_alpha", 1.0),
    ("rob.enabled", True),
    ("model.name", "small_cnn"),
])
def test_image_only_settings_are_refused_on_vectors(key, value):
    with pytest.raises(ConfigError) as err:
        validate(apply_overrides(TrainConfig(), {**TOY, key: value}), check_data=False)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{key}:") and repr(value) in message
