"""breast_cancer: scikit-learn's real 569 x 30 set, a fixed stratified test split, validation split from train, and
standardisation with the training rows' statistics only (validation and test never leak into them)."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

from trainables.config import DataConfig, TrainConfig
from trainables.config.overrides import ConfigError, apply_overrides
from trainables.data import DataError, build_data, data_inputs
from trainables.data.breast_cancer import read_breast_cancer
from trainables.validate import validate

TABULAR = {"data.name": "breast_cancer", "model.name": "tabular_mlp", "data.augment": False}


def _rows(data, split: str) -> torch.Tensor:
    return torch.cat([x for x, _ in (data.val_batches() if split == "val" else data.test_batches())])


def test_real_data_in_a_fixed_stratified_split():
    train, test = read_breast_cancer(split="train"), read_breast_cancer(split="test")
    assert train.images.shape == (455, 30) and test.images.shape == (114, 30) and train.images.dtype == np.float32
    assert np.bincount(train.labels).tolist() == [170, 285] and np.bincount(test.labels).tolist() == [42, 72]
    assert train.classes == ("malignant", "benign")
    bunch = load_breast_cancer()
    rows = {tuple(r) for r in bunch.data.astype(np.float32)}
    assert all(tuple(r) in rows for r in test.images)  # the real rows, untouched
    assert not {tuple(r) for r in train.images} & {tuple(r) for r in test.images}
    assert np.array_equal(read_breast_cancer(split="test").images, test.images)  # every call, every run


def test_standardised_with_the_training_rows_only():
    cfg = DataConfig(name="breast_cancer", augment=False, batch_size=1000, val_fraction=0.2, split_seed=3)
    data = build_data(cfg, seed=0)
    assert (data.num_classes, data.in_chans, data.image_size) == (2, 30, 0)
    assert (data.num_train, data.num_val) == (364, 91)
    x, _ = next(iter(data.train_batches(0)))  # one batch of every training row
    assert x.shape == (364, 30)
    assert torch.allclose(x.mean(0), torch.zeros(30), atol=1e-4)
    assert torch.allclose(x.std(0, correction=0), torch.ones(30), atol=1e-4)
    # the same as scikit-learn's StandardScaler fitted on the training rows and applied to validation and test
    raw = read_breast_cancer(split="train").images
    val_raw = _rows(build_data(cfg, seed=1), "val")  # any run seed: the split is data.split_seed's
    perm = torch.randperm(455, generator=torch.Generator().manual_seed(3))
    scaler = StandardScaler().fit(raw[perm[91:].numpy()])
    assert np.allclose(_rows(data, "val").numpy(), scaler.transform(raw[perm[:91].numpy()]), atol=1e-4)
    test = read_breast_cancer(split="test").images
    assert np.allclose(_rows(data, "test").numpy(), scaler.transform(test), atol=1e-4)
    assert torch.equal(val_raw, _rows(data, "val"))
    # validation rows are not standardised to their own statistics: they did not take part
    assert not torch.allclose(_rows(data, "val").mean(0), torch.zeros(30), atol=1e-3)


def test_vectors_have_no_pixels_and_no_randaugment():
    assert data_inputs("breast_cancer") == "vectors"
    data = build_data(DataConfig(name="breast_cancer", augment=False), seed=0)
    with pytest.raises(DataError, match="not images"):
        next(data.raw_batches("val"))
    with pytest.raises(DataError, match="RandAugment"):
        build_data(DataConfig(name="breast_cancer"), seed=0, extra_augment=lambda x, gen: x)


def test_a_breast_cancer_config_is_valid_and_image_settings_are_refused():
    validate(apply_overrides(TrainConfig(), {**TABULAR, "eval.jacobian": True, "model.fake_quant": True}))
    validate(apply_overrides(TrainConfig(), {**TABULAR, "model.name": "toy_mlp"}))
    for key, value in (("data.augment", True), ("model.name", "small_cnn"), ("rob.enabled", True)):
        with pytest.raises(ConfigError) as err:
            validate(apply_overrides(TrainConfig(), {**TABULAR, key: value}), check_data=False)
        assert "\n" not in str(err.value) and str(err.value).startswith(f"{key}:") and repr(value) in str(err.value)
