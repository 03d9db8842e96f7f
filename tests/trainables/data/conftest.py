"""Tiny datasets written in the exact on-disk formats the data layer reads: CIFAR-10/100 python pickles
(bytes keys, uint8 N x 3072 CHW rows, as in the real archives) and an ImageFolder of PNGs.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

PER_BATCH = 20  # images per CIFAR file: 100 train images for CIFAR-10, 20 test


def _dump(path: Path, entry: dict) -> None:
    with path.open("wb") as f:
        pickle.dump(entry, f, protocol=2)  # the real files are Python 2 pickles


def _images(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 256, size=(n, 3 * 32 * 32), dtype=np.uint8)


@pytest.fixture
def cifar10(tmp_path):
    """(root, train images uint8 (N, 3, 32, 32), train labels); image 0 is a known gradient pattern."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    data, labels = _images(rng, 5 * PER_BATCH), rng.integers(0, 10, 5 * PER_BATCH)
    data[0] = np.arange(3 * 32 * 32) % 251  # channel-major: R plane, then G, then B, each row-major
    for i in range(5):
        part = slice(i * PER_BATCH, (i + 1) * PER_BATCH)
        _dump(folder / f"data_batch_{i + 1}", {b"batch_label": b"training batch", b"data": data[part],
                                                b"labels": labels[part].tolist()})
    _dump(folder / "test_batch", {b"data": _images(rng, PER_BATCH), b"labels": rng.integers(0, 10, PER_BATCH).tolist()})
    _dump(folder / "batches.meta", {b"label_names": [f"class{c}".encode() for c in range(10)],
                                    b"num_vis": 3072})
    return tmp_path, data.reshape(-1, 3, 32, 32), labels


@pytest.fixture
def cifar100(tmp_path):
    """(root, train images uint8 (N, 3, 32, 32), fine labels) with 100 classes named in meta."""
    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    n = 120
    data, fine = _images(rng, n), rng.integers(0, 100, n)
    _dump(folder / "train", {b"data": data, b"fine_labels": fine.tolist(), b"coarse_labels": (fine // 5).tolist()})
    _dump(folder / "test", {b"data": _images(rng, 30), b"fine_labels": rng.integers(0, 100, 30).tolist()})
    _dump(folder / "meta", {b"fine_label_names": [f"fine{c}".encode() for c in range(100)],
                            b"coarse_label_names": [f"coarse{c}".encode() for c in range(20)]})
    return tmp_path, data.reshape(-1, 3, 32, 32), fine


@pytest.fixture
def image_folder(tmp_path):
    """root with train/<class>/<png> (3 classes x 6 images of assorted sizes) and val/<class>/<png>."""
    from PIL import Image

    rng = np.random.default_rng(2)
    for split, count in (("train", 6), ("val", 2)):
        for c in ("cat", "dog", "frog"):
            (tmp_path / split / c).mkdir(parents=True)
            for i in range(count):
                h, w = rng.integers(10, 40, 2)
                pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(tmp_path / split / c / f"{i}.png")
    return tmp_path
