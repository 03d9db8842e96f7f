"""Tiny-ImageNet (200 classes, 64x64) read from its distributed layout into uint8 arrays for the on-device path.

Layout (as unpacked from `tiny-imagenet-200.zip`; nothing is downloaded):
    tiny-imagenet-200/wnids.txt                      one WordNet id per line: the 200 classes
    tiny-imagenet-200/train/<wnid>/images/*.JPEG     500 per class: the train split (train/val are cut from it)
    tiny-imagenet-200/val/images/*.JPEG              10,000 labelled images: the "test" split
    tiny-imagenet-200/val/val_annotations.txt        <file>\t<wnid>\t<bbox...> per line
The unlabelled `test/` folder is never read. Labels index the sorted wnids, as torchvision's ImageFolder over
`train/` would number them. Decoding is one loop: 64x64 JPEGs take ~0.09 ms each here (110,000 in ~10 s, file cache
warm), and a thread pool was slower (Python's per-image work holds the GIL). The whole set is 1.35 GB of uint8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from trainables.data.sources import DataError, RawImages, require_root

FOLDER = "tiny-imagenet-200"
SIZE = 64
LISTING = (f"{FOLDER}/{{wnids.txt, train/<wnid>/images/*.JPEG, val/images/*.JPEG, val/val_annotations.txt}} "
           "(the layout of tiny-imagenet-200.zip; nothing is downloaded)")
_SUFFIXES = (".jpeg", ".jpg", ".png")


def tiny_imagenet_dir(root: str, split: str = "train") -> Path:
    """The `tiny-imagenet-200` directory under (or at) `root`, after checking that `split`'s files are there."""
    base = require_root("tiny_imagenet", root, LISTING)
    folder = base if (base / "wnids.txt").is_file() else base / FOLDER
    needed = ["wnids.txt", "train"] if split == "train" else ["wnids.txt", "val/images", "val/val_annotations.txt"]
    missing = [n for n in needed if not (folder / n).exists()]
    if missing:
        detail = f"; missing: {', '.join(missing)}" if folder.is_dir() else ""
        raise DataError(f"tiny_imagenet: no Tiny-ImageNet data at {base}: expected {LISTING}{detail}")
    return folder


def _wnids(folder: Path) -> tuple[str, ...]:
    wnids = sorted({line.strip() for line in (folder / "wnids.txt").read_text().splitlines() if line.strip()})
    if not wnids:
        raise DataError(f"tiny_imagenet: {folder / 'wnids.txt'} lists no class ids; expected one wnid per line")
    return tuple(wnids)


def _train_files(folder: Path, wnids: tuple[str, ...]) -> tuple[list[Path], list[int]]:
    files, labels = [], []
    for label, wnid in enumerate(wnids):
        images = folder / "train" / wnid / "images"
        found = sorted(p for p in images.glob("*") if p.suffix.lower() in _SUFFIXES) if images.is_dir() else []
        if not found:
            raise DataError(f"tiny_imagenet: no images at {images} for class {wnid} listed in wnids.txt; "
                            f"expected {LISTING}")
        files += found
        labels += [label] * len(found)
    return files, labels


def _val_files(folder: Path, wnids: tuple[str, ...]) -> tuple[list[Path], list[int]]:
    index = {w: i for i, w in enumerate(wnids)}
    annotations = folder / "val" / "val_annotations.txt"
    files, labels = [], []
    for n, line in enumerate(annotations.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2 or fields[1] not in index:
            raise DataError(f"tiny_imagenet: {annotations} line {n} is {line[:80]!r}; expected "
                            "<file>\\t<wnid listed in wnids.txt>\\t<bbox>")
        files.append(folder / "val" / "images" / fields[0])
        labels.append(index[fields[1]])
    if not files:
        raise DataError(f"tiny_imagenet: {annotations} lists no images; expected <file>\\t<wnid>\\t<bbox> lines")
    return files, labels


def _decode(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as image:
            rgb = np.asarray(image.convert("RGB"))  # a few Tiny-ImageNet images are grayscale
    except (OSError, ValueError) as e:
        raise DataError(f"tiny_imagenet: cannot read image {path} ({type(e).__name__}: {e})") from e
    if rgb.shape[:2] != (SIZE, SIZE):
        raise DataError(f"tiny_imagenet: image {path} is {rgb.shape[1]}x{rgb.shape[0]}; every Tiny-ImageNet "
                        f"image is {SIZE}x{SIZE} (use data.name=imagefolder for other sizes)")
    return rgb.transpose(2, 0, 1)


def read_tiny_imagenet(root: str, split: str = "train") -> RawImages:
    """Tiny-ImageNet `split` ("train": train/, 100,000 images; "test": the labelled val/, 10,000) as uint8
    (N, 3, 64, 64)."""
    folder = tiny_imagenet_dir(root, split)
    wnids = _wnids(folder)
    files, labels = (_train_files if split == "train" else _val_files)(folder, wnids)
    images = np.empty((len(files), 3, SIZE, SIZE), dtype=np.uint8)
    for i, path in enumerate(files):
        images[i] = _decode(path)
    return RawImages(images, np.asarray(labels, dtype=np.int64), wnids)
