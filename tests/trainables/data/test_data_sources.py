"""Readers return the pixels and labels on disk unchanged, and every bad root is one clear DataError."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from trainables.data import DATASETS, DataError, check_root
from trainables.data.sources import CIFAR10, CIFAR100, read_cifar, read_digits, read_mnist5k


def test_cifar10_round_trips_pixels_labels_and_names(cifar10):
    root, images, labels = cifar10
    raw = read_cifar(CIFAR10, str(root))
    assert raw.images.dtype == np.uint8 and raw.images.shape == (100, 3, 32, 32)
    np.testing.assert_array_equal(raw.images, images)
    np.testing.assert_array_equal(raw.labels, labels)
    # Image 0's R plane starts 0, 1, 2 along the first row and its G plane starts at 1024 % 251.
    assert raw.images[0, 0, 0, :3].tolist() == [0, 1, 2] and raw.images[0, 1, 0, 0] == 1024 % 251
    assert raw.classes == tuple(f"class{c}" for c in range(10))
    assert read_cifar(CIFAR10, str(root), "test").images.shape == (20, 3, 32, 32)


def test_cifar100_uses_fine_labels_and_accepts_the_cifar_dir_itself(cifar100):
    root, images, fine = cifar100
    for where in (root, root / "cifar-100-python"):
        raw = read_cifar(CIFAR100, str(where))
        np.testing.assert_array_equal(raw.images, images)
        np.testing.assert_array_equal(raw.labels, fine)
        assert len(raw.classes) == 100


def test_mnist5k_is_the_packaged_5000_images_with_a_fixed_stratified_test_fifth():
    train, test = read_mnist5k(), read_mnist5k(split="test")
    assert train.images.shape == (4000, 1, 28, 28) and train.images.dtype == np.uint8
    assert test.images.shape == (1000, 1, 28, 28)
    assert train.images.max() == 255 and np.bincount(train.labels).tolist() == [400] * 10
    assert np.bincount(test.labels).tolist() == [100] * 10
    pixels = {img.tobytes() for img in train.images}
    assert sum(img.tobytes() in pixels for img in test.images) <= 1, "test images are not training images"


def test_digits_are_stretched_to_uint8_with_a_fixed_test_fifth():
    train, test = read_digits(), read_digits(split="test")
    assert train.images.shape == (1437, 1, 8, 8) and train.images.max() == 255 and len(train.classes) == 10
    assert test.images.shape == (360, 1, 8, 8)
    np.testing.assert_array_equal(read_digits(split="test").images, test.images)  # the same images every time


def _one_line_error(name: str, root: str) -> str:
    with pytest.raises(DataError) as info:
        check_root(name, root)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("name, files", [
    ("cifar10", "cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}"),
    ("cifar100", "cifar-100-python/{train,test,meta}"),
])
def test_missing_cifar_root_names_path_and_expected_files(tmp_path, name, files):
    message = _one_line_error(name, str(tmp_path / "nowhere"))
    assert str(tmp_path / "nowhere") in message and files in message and "nothing is downloaded" in message


def test_missing_cifar_file_is_named(cifar10):
    root, _, _ = cifar10
    (root / "cifar-10-batches-py" / "data_batch_3").unlink()
    message = _one_line_error("cifar10", str(root))
    assert message.endswith("missing: data_batch_3") and str(root) in message


@pytest.mark.parametrize("name", ["cifar10", "cifar100", "imagefolder"])
def test_empty_root_says_to_set_data_root(name):
    assert "set data.root" in _one_line_error(name, "  ")


def test_imagefolder_without_class_folders(tmp_path):
    (tmp_path / "loose.png").write_bytes(b"")
    message = _one_line_error("imagefolder", str(tmp_path))
    assert str(tmp_path) in message and "<class>/<image>" in message


def test_malformed_cifar_file_is_a_data_error(cifar100):
    root, _, _ = cifar100
    (root / "cifar-100-python" / "train").write_bytes(b"not a pickle")
    check_root("cifar100", str(root))  # files exist: the up-front check reads nothing
    with pytest.raises(DataError, match="malformed CIFAR-100 file .*train") as info:
        read_cifar(CIFAR100, str(root))
    assert "\n" not in str(info.value)


def test_wrong_shape_is_a_data_error(cifar100):
    root, _, _ = cifar100
    with (root / "cifar-100-python" / "train").open("wb") as f:
        pickle.dump({b"data": np.zeros((4, 100), np.uint8), b"fine_labels": [0] * 4}, f)
    with pytest.raises(DataError, match=r"uint8 \(4, 100\)"):
        read_cifar(CIFAR100, str(root))


def test_embedded_datasets_need_no_root_and_unknown_names_list_valid_ones():
    check_root("mnist5k", "")
    check_root("digits", "/does/not/matter")
    with pytest.raises(KeyError, match="valid names: " + ", ".join(DATASETS)):
        check_root("svhn", "/x")
