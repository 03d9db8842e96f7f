"""The GPU check's generated CIFAR-100: read by the trainer's own reader, learnable (a template per class) and
with the stated share of noisy labels."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import gpu_check_data as gd
from trainables.data.sources import CIFAR100, read_cifar


def test_the_trainers_reader_reads_it_as_cifar100(tmp_path):
    root = gd.write(tmp_path, train=2000, test=300)
    train, test = read_cifar(CIFAR100, str(root), "train"), read_cifar(CIFAR100, str(root), "test")
    assert train.images.shape == (2000, 3, 32, 32) and test.images.shape == (300, 3, 32, 32)
    assert train.images.dtype == np.uint8 and len(train.classes) == gd.CLASSES
    noisy = np.mean(train.labels != np.arange(2000) % gd.CLASSES)
    assert abs(noisy - gd.LABEL_NOISE * (1 - 1 / gd.CLASSES)) < 0.04  # a uniform draw can land on the true class


def test_an_image_is_nearer_its_class_template_than_any_other(tmp_path):
    root = gd.write(tmp_path, train=200, test=1)
    images = read_cifar(CIFAR100, str(root), "train").images.astype(np.float32)
    base = gd.templates(np.random.default_rng(0)).astype(np.float32)  # write() draws the templates first
    dist = ((images[:, None] - base[None]) ** 2).mean(axis=(2, 3, 4))
    assert (dist.argmin(axis=1) == np.arange(200) % gd.CLASSES).all()


def test_too_few_images_are_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="train=99"):
        gd.write(tmp_path, train=99, test=10)
