"""Small datasets written in each reader's exact on-disk layout: CIFAR-10/100 python pickles, Tiny-ImageNet as
unpacked from its zip, and ImageFolder trees. `--smoke` trains on them; pixels are random, labels cycle the classes.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from PIL import Image

from trainables.data.sources import CIFAR10, CIFAR100, CifarLayout
from trainables.data.tiny_imagenet import FOLDER as TINY_FOLDER
from trainables.data.tiny_imagenet import SIZE as TINY_SIZE


def dump_pickle(path: Path, entry: dict) -> None:
    with path.open("wb") as f:
        pickle.dump(entry, f, protocol=2)  # the real files are Python 2 pickles with bytes keys


def write_cifar(layout: CifarLayout, root: Path, *, train: int = 40, test: int = 16, seed: int = 0) -> Path:
    """root/<cifar-10-batches-py | cifar-100-python>/...: uint8 N x 3072 CHW rows, as in the real archives."""
    rng = np.random.default_rng(seed)
    classes = 10 if layout is CIFAR10 else 100
    folder = Path(root) / layout.folder
    folder.mkdir(parents=True, exist_ok=True)

    def entry(n: int) -> dict:
        return {b"data": rng.integers(0, 256, (n, 3 * 32 * 32), dtype=np.uint8),
                layout.label_key.encode(): [i % classes for i in range(n)]}

    parts = np.array_split(np.arange(train), len(layout.train))
    for name, part in zip(layout.train, parts):
        dump_pickle(folder / name, entry(len(part)))
    dump_pickle(folder / layout.test, entry(test))
    dump_pickle(folder / layout.meta, {layout.names_key.encode(): [f"class{c}".encode() for c in range(classes)]})
    return Path(root)


def _jpeg(path: Path, rng: np.random.Generator, size: tuple[int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(path, format="JPEG", quality=90)


def write_tiny_imagenet(root: Path, *, classes: int = 10, per_class: int = 4, test: int = 16,
                        seed: int = 0) -> Path:
    """root/tiny-imagenet-200/{wnids.txt, train/<wnid>/images/*.JPEG, val/images, val/val_annotations.txt}."""
    rng = np.random.default_rng(seed)
    folder = Path(root) / TINY_FOLDER
    wnids = [f"n{9_000_000 + c:08d}" for c in range(classes)]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "wnids.txt").write_text("\n".join(wnids) + "\n")
    for wnid in wnids:
        for i in range(per_class):
            _jpeg(folder / "train" / wnid / "images" / f"{wnid}_{i}.JPEG", rng, (TINY_SIZE, TINY_SIZE))
    lines = []
    for j in range(test):
        _jpeg(folder / "val" / "images" / f"val_{j}.JPEG", rng, (TINY_SIZE, TINY_SIZE))
        lines.append(f"val_{j}.JPEG\t{wnids[j % classes]}\t0\t0\t{TINY_SIZE - 1}\t{TINY_SIZE - 1}")
    (folder / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    return Path(root)


def write_imagefolder(root: Path, *, classes: int = 3, per_class: int = 12, test_per_class: int = 4,
                      seed: int = 0) -> Path:
    """root/{train,val}/<class>/<i>.png of assorted sizes (torchvision's ImageFolder layout, val/ as test)."""
    rng = np.random.default_rng(seed)
    for split, count in (("train", per_class), ("val", test_per_class)):
        for c in range(classes):
            for i in range(count):
                h, w = rng.integers(16, 48, 2)
                path = Path(root) / split / f"class{c}" / f"{i}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(path)
    return Path(root)


def write_segfolder(root: Path, *, train: int = 24, test: int = 8, size: int = 32, classes: int = 3,
                    seed: int = 0) -> Path:
    """root/{train,test}/{images,masks}/<id>.png and root/classes.txt: noisy RGB images holding 1-2 rectangles of
    classes 1..classes-1, each class its own colour; masks are palette ('P') PNGs of class indices, as VOC's."""
    rng = np.random.default_rng(seed)
    colours = rng.integers(64, 256, (classes, 3))
    palette = [v for c in range(256) for v in (colours[c] if c < classes else (0, 0, 0))]
    Path(root).mkdir(parents=True, exist_ok=True)
    names = ["background", *(f"class{c}" for c in range(1, classes))]
    (Path(root) / "classes.txt").write_text("\n".join(names) + "\n")
    for split, count in (("train", train), ("test", test)):
        for i in range(count):
            image = rng.integers(0, 48, (size, size, 3), dtype=np.uint8)  # dark noise: background
            mask = np.zeros((size, size), dtype=np.uint8)
            for _ in range(rng.integers(1, 3)):
                c = rng.integers(1, classes)
                y0, x0 = rng.integers(0, size - size // 4, 2)
                h, w = rng.integers(size // 4, size // 2 + 1, 2)
                region = (slice(y0, y0 + h), slice(x0, x0 + w))  # clipped at the border
                mask[region] = c
                image[region] = colours[c] - rng.integers(0, 32, (*mask[region].shape, 3))
            picture = Image.fromarray(mask)
            picture.putpalette(palette)  # an 'L' image with a palette becomes 'P', its values unchanged
            for sub, png in (("images", Image.fromarray(image)), ("masks", picture)):
                path = Path(root) / split / sub / f"{i:04d}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                png.save(path)
    return Path(root)


WRITERS = {
    "cifar10": lambda root: write_cifar(CIFAR10, root),
    "cifar100": lambda root: write_cifar(CIFAR100, root),
    "tiny_imagenet": write_tiny_imagenet,
    "imagefolder": write_imagefolder,
    "segfolder": write_segfolder,
}


def write_dataset(name: str, root: Path) -> Path | None:
    """A small copy of dataset `name` under `root` (returned as the data.root to use); None for embedded sets."""
    writer = WRITERS.get(name)
    return writer(Path(root)) if writer is not None else None
