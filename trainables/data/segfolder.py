"""The `segfolder` reader: images/<id>.png with masks/<id>.png (one class index per pixel), optionally split into
train/, val/ and test/ folders; every file is checked, and a malformed one named in a one-line `DataError`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from trainables.config import DataConfig
from trainables.data.seg_datasets import RawMasks
from trainables.data.sources import DataError, embedded_split, require_root

LAYOUT = ("<root>/images/<id>.png + <root>/masks/<id>.png, or <root>/{train,val,test}/{images,masks}/<id>.png "
          "(val/ and test/ optional), masks one class index per pixel (uint8 'L' or palette 'P' PNG)")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")  # masks are .png only: a lossy format would blur class indices
MASK_MODES = ("L", "P", "1")  # one value per pixel: grey levels, palette indices (VOC-style), or 1-bit
CLASSES_FILE = "classes.txt"  # optional, at the root: class i's name on line i (0 = background)
VOID = 255  # VOC's "ignore" label: refused, so that a VOC mask cannot silently make 256 classes


def _split_dir(base: Path, split: str) -> Path | None:
    """Where `split`'s images/ and masks/ are: train/ (or the root itself), val/, test/; None for a missing
    val/ or test/."""
    nested = (base / "train").is_dir()
    folder = (base / "train" if nested else base) if split == "train" else base / split
    if split != "train" and folder.is_dir() and not nested:
        raise DataError(f"segfolder: {folder} is read only beside {base}/train; move {base}/images and "
                        f"{base}/masks into {base}/train")
    if split != "train" and not folder.is_dir():
        return None
    missing = [sub for sub in ("images", "masks") if not (folder / sub).is_dir()]
    if missing:
        raise DataError(f"segfolder: no {', '.join(f'{folder}/{m}' for m in missing)}: expected {LAYOUT}; "
                        "nothing is downloaded")
    return folder


def segfolder_dir(root: str) -> Path:
    """The training folder (root/train or root), after checking that images/ and masks/ are there."""
    return _split_dir(require_root("segfolder", root, LAYOUT), "train")


def _pairs(folder: Path) -> list[tuple[Path, Path]]:
    """(image, mask) paths sorted by id; the two folders must hold the same ids."""
    def by_id(sub: str, suffixes: tuple[str, ...]) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for p in sorted((folder / sub).iterdir()):
            if p.suffix.lower() in suffixes:
                if p.stem in found:
                    raise DataError(f"segfolder: two files for id {p.stem!r} in {folder / sub}: "
                                    f"{found[p.stem].name}, {p.name}")
                found[p.stem] = p
        return found

    images, masks = by_id("images", IMAGE_SUFFIXES), by_id("masks", (".png",))
    if images.keys() != masks.keys():
        def few(ids: set[str]) -> str:
            listed = sorted(ids)
            return ", ".join(listed[:5]) + (f" (+{len(listed) - 5} more)" if len(listed) > 5 else "")
        parts = [f"no mask for {few(images.keys() - masks.keys())}" if images.keys() - masks.keys() else "",
                 f"no image for {few(masks.keys() - images.keys())}" if masks.keys() - images.keys() else ""]
        raise DataError(f"segfolder: ids differ between {folder}/images and {folder}/masks: "
                        f"{'; '.join(p for p in parts if p)}")
    if not images:
        raise DataError(f"segfolder: no images in {folder}/images: expected {LAYOUT}")
    return [(images[i], masks[i]) for i in sorted(images)]


def _open(path: Path) -> Image.Image:
    try:
        image = Image.open(path)
        image.load()
        return image
    except (OSError, UnidentifiedImageError, ValueError) as e:  # truncated, not an image, unsupported
        raise DataError(f"segfolder: cannot read {path}: {type(e).__name__}: {' '.join(str(e).split())}") from None


def _read_pair(image_path: Path, mask_path: Path, image_size: int) -> tuple[np.ndarray, np.ndarray]:
    image, mask = _open(image_path), _open(mask_path)
    if mask.mode not in MASK_MODES:
        raise DataError(f"segfolder: mask {mask_path} is a mode-{mask.mode} PNG; expected one class index per pixel "
                        f"(mode {', '.join(MASK_MODES)})")
    if mask.size != image.size:
        raise DataError(f"segfolder: mask {mask_path} is {mask.size[0]}x{mask.size[1]} but its image {image_path} "
                        f"is {image.size[0]}x{image.size[1]} (width x height)")
    image = image.convert("RGB")
    if image_size:  # classes are indices: a mask is resized by nearest neighbour, never blended
        image = image.resize((image_size, image_size), Image.Resampling.BILINEAR)
        mask = mask.resize((image_size, image_size), Image.Resampling.NEAREST)
    return np.asarray(image).transpose(2, 0, 1), np.asarray(mask, dtype=np.uint8)


def _class_names(base: Path) -> tuple[str, ...] | None:
    path = base / CLASSES_FILE
    if not path.is_file():
        return None
    names = tuple(line.strip() for line in path.read_text().splitlines() if line.strip())
    if len(names) < 2:
        raise DataError(f"segfolder: {path} names {len(names)} class(es); expected one name per line, background "
                        "first, at least 2")
    return names


def _check_size(image: np.ndarray, path: Path, first: tuple[np.ndarray, Path] | None) -> None:
    """Without data.image_size, every image is kept as it is: they must be square and share one size."""
    (h, w), size = image.shape[1:], lambda a: f"{a.shape[2]}x{a.shape[1]}"
    if (first is None and h != w) or (first is not None and image.shape != first[0].shape):
        seen = f"{first[1]} is {size(first[0])}, " if first is not None else ""
        raise DataError(f"segfolder: {seen}{path} is {size(image)}: without data.image_size every image must be "
                        "square and of one size; set data.image_size to resize them all")


def _read_folder(folder: Path, names: tuple[str, ...] | None, image_size: int, share: str = "") -> RawMasks:
    """Every pair under `folder`, or (share "train" | "test") that share of them: the fixed held-out test split."""
    pairs = _pairs(folder)
    if share:
        if len(pairs) < 2:
            raise DataError(f"segfolder: {folder} holds {len(pairs)} image, too few to hold a test share out of; "
                            "add images or a test/ folder")
        pairs = [pairs[i] for i in embedded_split(np.zeros(len(pairs)), share)]
    images, masks = [], []
    for image_path, mask_path in pairs:
        image, mask = _read_pair(image_path, mask_path, image_size)
        if not image_size:
            _check_size(image, image_path, (images[0], pairs[0][0]) if images else None)
        top = int(mask.max())
        if names is not None and top >= len(names):
            raise DataError(f"segfolder: {mask_path} holds class {top}, but {CLASSES_FILE} names {len(names)} "
                            f"(0..{len(names) - 1})")
        if names is None and top == VOID:
            raise DataError(f"segfolder: {mask_path} holds {VOID} (VOC's 'void' label), which is not supported: "
                            f"remap it to a class, or list the classes in {CLASSES_FILE} and stay below {VOID}")
        images.append(image)
        masks.append(mask)
    masks_np = np.stack(masks)
    classes = names or tuple(str(c) for c in range(int(masks_np.max()) + 1))  # max + 1 over this split's masks
    return RawMasks(np.stack(images), masks_np, classes)


def read_segfolder(cfg: DataConfig, split: str = "train") -> RawMasks | None:
    """`split` ("train" | "val" | "test") of the folder at cfg.root, resized to cfg.image_size when it is set.

    val: val/ if present, else None (held out of train by data.val_fraction). test: test/ if present, else a
    fixed 20% of the training folder's ids (`embedded_split`, as for the embedded sets), which train then lacks.
    """
    base = require_root("segfolder", cfg.root, LAYOUT)
    names = _class_names(base)
    own_test = _split_dir(base, "test") is not None
    if split == "train":
        return _read_folder(_split_dir(base, "train"), names, cfg.image_size, "" if own_test else "train")
    if split == "test" and not own_test:
        return _read_folder(_split_dir(base, "train"), names, cfg.image_size, "test")
    folder = _split_dir(base, split)
    return None if folder is None else _read_folder(folder, names, cfg.image_size)
