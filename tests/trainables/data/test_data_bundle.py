"""build_data: shapes, a seeded split, replayable epochs and normalized batches, for every dataset kind."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from trainables.config import DataConfig
from trainables.data import DataError, build_data
from trainables.data.batching import epoch_generator


def _indices(bundle) -> tuple[set[int], set[int]]:
    return set(bundle.source.train_idx.tolist()), set(bundle.source.val_idx.tolist())


def test_cifar10_bundle(cifar10):
    root, _, labels = cifar10
    bundle = build_data(DataConfig(name="cifar10", root=str(root), batch_size=16, val_fraction=0.2), seed=0)
    assert (bundle.num_classes, bundle.in_chans, bundle.image_size) == (10, 3, 32)
    assert (bundle.num_train, bundle.num_val, bundle.steps_per_epoch()) == (80, 20, 5)  # 80 / 16, drop_last
    x, y = next(bundle.train_batches(0))
    assert x.shape == (16, 3, 32, 32) and x.dtype == torch.float32 and y.dtype == torch.int64
    val_y = torch.cat([y for _, y in bundle.val_batches()])
    assert val_y.tolist() == [int(labels[i]) for i in bundle.source.val_idx]  # labels stay with their images


def test_cifar100_bundle_and_lazy_test_split(cifar100):
    root, _, _ = cifar100
    bundle = build_data(DataConfig(name="cifar100", root=str(root), batch_size=32, eval_batch_size=7), seed=0)
    assert (bundle.num_classes, bundle.num_train + bundle.num_val) == (100, 120)
    assert [len(y) for _, y in bundle.val_batches()] == [7, 5]  # validation keeps every sample
    assert sum(len(y) for _, y in bundle.test_batches()) == 30


def test_imagefolder_bundle(image_folder):
    cfg = DataConfig(name="imagefolder", root=str(image_folder), batch_size=4, val_fraction=0.25)
    bundle = build_data(cfg, seed=0)
    assert bundle.source.dataset.classes == ["cat", "dog", "frog"]  # root/train was used, not root itself
    assert (bundle.num_classes, bundle.in_chans, bundle.image_size) == (3, 3, 32)
    assert (bundle.num_train, bundle.num_val, bundle.steps_per_epoch()) == (14, 4, 3)
    batches = list(bundle.train_batches(0))
    assert len(batches) == 3 and batches[0][0].shape == (4, 3, 32, 32)
    assert torch.equal(batches[0][0], next(bundle.train_batches(0))[0])
    assert sum(len(y) for _, y in bundle.val_batches()) == 4
    assert sum(len(y) for _, y in bundle.test_batches()) == 6


def test_imagefolder_images_are_resized_to_data_image_size(image_folder):
    cfg = DataConfig(name="imagefolder", root=str(image_folder), batch_size=4, image_size=48)
    bundle = build_data(cfg, seed=0)
    assert bundle.image_size == 48
    assert next(bundle.train_batches(0))[0].shape == (4, 3, 48, 48)
    assert next(bundle.test_batches())[0].shape[-2:] == (48, 48)


def test_imagefolder_workers_give_the_same_batches(image_folder):
    cfg = DataConfig(name="imagefolder", root=str(image_folder), batch_size=4)
    serial = list(build_data(cfg, seed=3).train_batches(1))
    parallel = list(build_data(replace(cfg, num_workers=2), seed=3).train_batches(1))
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(serial, parallel))


def test_split_is_fixed_by_split_seed_alone():
    a, b = (build_data(DataConfig(name="digits", split_seed=1), seed=s) for s in (0, 9))
    other = build_data(DataConfig(name="digits", split_seed=2), seed=0)
    (train_a, val_a), (_, val_b), (_, val_o) = _indices(a), _indices(b), _indices(other)
    assert val_a == val_b and val_a != val_o
    assert not train_a & val_a and len(train_a) + len(val_a) == 1437 == a.num_train + a.num_val  # 1797 - 360 test


def test_limit_train_keeps_the_validation_set():
    full = build_data(DataConfig(name="digits"), seed=0)
    small = build_data(DataConfig(name="digits", limit_train=100, batch_size=32), seed=0)
    assert (small.num_train, small.steps_per_epoch()) == (100, 3)
    assert _indices(small)[1] == _indices(full)[1] and _indices(small)[0] < _indices(full)[0]
    tiny = build_data(DataConfig(name="digits", limit_train=10, batch_size=128), seed=0)
    assert tiny.steps_per_epoch() == 1 and [len(y) for _, y in tiny.train_batches(0)] == [10]  # not 0 steps


def test_epochs_replay_exactly_and_differ_from_each_other():
    bundle = build_data(DataConfig(name="mnist5k", limit_train=512, batch_size=128), seed=7)
    first, again, other = (list(bundle.train_batches(e)) for e in (3, 3, 1))
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(first, again))
    assert not torch.equal(first[0][0], other[0][0])
    rebuilt = build_data(DataConfig(name="mnist5k", limit_train=512, batch_size=128), seed=7)
    assert torch.equal(next(rebuilt.train_batches(3))[0], first[0][0])  # a resumed run sees the same batches


@pytest.mark.parametrize("name", ["mnist5k", "digits"])
def test_normalized_batches_are_roughly_standard(name):
    bundle = build_data(DataConfig(name=name, augment=False), seed=0)
    x = torch.cat([x for x, _ in bundle.val_batches()])
    assert abs(x.mean().item()) < 0.1 and abs(x.std().item() - 1) < 0.1


def test_flip_only_where_labels_allow_it(cifar10, image_folder):
    flips = {name: build_data(DataConfig(name=name, root=root), seed=0).source.transform.flip
             for name, root in [("mnist5k", ""), ("digits", ""), ("cifar10", str(cifar10[0])),
                                ("imagefolder", str(image_folder))]}
    assert flips == {"mnist5k": False, "digits": False, "cifar10": True, "imagefolder": True}


def test_validation_and_unaugmented_training_are_plain_normalization():
    bundle = build_data(DataConfig(name="digits", augment=False, batch_size=4), seed=0)
    x, _ = next(bundle.train_batches(0))
    order = bundle.source.train_idx[torch.randperm(bundle.num_train, generator=epoch_generator(0, 0))][:4]
    expected = bundle.source.transform.normalize(bundle.source.images[order])
    assert torch.equal(x, expected)


def test_nothing_left_to_train_on_is_a_data_error():
    with pytest.raises(ValueError, match="val_fraction"):
        build_data(DataConfig(name="digits", val_fraction=1.0), seed=0)
    with pytest.raises(DataError, match="no training images"):
        build_data(DataConfig(name="digits", val_fraction=0.9999), seed=0)
