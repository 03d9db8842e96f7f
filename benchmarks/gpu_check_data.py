"""Generated CIFAR-100 for the GPU check: torchvision's python-pickle layout, as `data.name=cifar100` reads it, with
images a network can learn in two epochs (a colour template per class, noise on top) and a share of noisy labels.

The noisy labels keep the best reachable loss well above 0 (about 1.7 nats at 25%), so the precisions' losses are
compared where a relative tolerance means something; random pixels (`trainables.data.synthetic`) stay at ln 100.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trainables.data.sources import CIFAR100
from trainables.data.synthetic import dump_pickle

CLASSES, SIZE = 100, 32
TEMPLATE = 4  # a class template is 4x4 colour cells, each 8x8 pixels: a random crop of 4 px keeps most of it
NOISE = 48  # uniform pixel noise, +-levels of 255
LABEL_NOISE = 0.25  # share of labels drawn uniformly instead: the floor of the expected loss is ~1.7 nats
CHUNK = 10_000  # images generated at a time (int16 noise of a chunk: 60 MB)


def templates(rng: np.random.Generator) -> np.ndarray:
    """(CLASSES, 3, SIZE, SIZE) uint8: each class's template, blocks of one colour."""
    cells = rng.integers(0, 256, (CLASSES, 3, TEMPLATE, TEMPLATE), dtype=np.uint8)
    return cells.repeat(SIZE // TEMPLATE, axis=2).repeat(SIZE // TEMPLATE, axis=3)


def images_of(labels: np.ndarray, base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 (N, 3*SIZE*SIZE) rows, CHW as in the real archives: each label's template plus noise."""
    rows = np.empty((len(labels), 3 * SIZE * SIZE), dtype=np.uint8)
    for start in range(0, len(labels), CHUNK):
        part = labels[start:start + CHUNK]
        noise = rng.integers(-NOISE, NOISE + 1, (len(part), 3, SIZE, SIZE), dtype=np.int16)
        rows[start:start + len(part)] = np.clip(base[part] + noise, 0, 255).reshape(len(part), -1)
    return rows


def write(root: Path, *, train: int, test: int, seed: int = 0) -> Path:
    """root/cifar-100-python/{train,test,meta}; returns `root` (data.root)."""
    if train < CLASSES or test < 1:
        raise ValueError(f"`train >= {CLASSES} and test >= 1` must hold, but got ({train=}, {test=})")
    rng = np.random.default_rng(seed)
    base = templates(rng)
    folder = Path(root) / CIFAR100.folder
    folder.mkdir(parents=True, exist_ok=True)
    for name, n in ((CIFAR100.train[0], train), (CIFAR100.test, test)):
        true = np.arange(n) % CLASSES
        noisy = rng.random(n) < LABEL_NOISE
        shown = np.where(noisy, rng.integers(0, CLASSES, n), true)  # the image shows `true`, the label says `shown`
        dump_pickle(folder / name, {b"data": images_of(true, base, rng),
                                    CIFAR100.label_key.encode(): shown.tolist()})
    dump_pickle(folder / CIFAR100.meta,
                {CIFAR100.names_key.encode(): [f"class{c}".encode() for c in range(CLASSES)]})
    return Path(root)
