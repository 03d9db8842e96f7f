"""Tiny-ImageNet read from files written in its distributed layout, kept on the device, and trained on."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from tests.trainables.test_loop import MemorySink
from trainables import loop
from trainables.config import TrainConfig
from trainables.config.overrides import apply_overrides
from trainables.data import DataError, build_data, check_root
from trainables.data.tiny_imagenet import read_tiny_imagenet

WNIDS = ("n02124075", "n01443537", "n09246464")  # wnids.txt is not sorted; labels follow the sorted order
PER_CLASS = 4


def _color(label: int, i: int) -> tuple[int, int, int]:
    return (40 + 60 * label, 20 * i + 10, 200 - 30 * i)


def _save(path, color, gray=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.broadcast_to(np.asarray(color, np.uint8), (64, 64, 3))
    image = Image.fromarray(pixels.copy()).convert("L") if gray else Image.fromarray(pixels.copy())
    image.save(path, format="JPEG", quality=95)


@pytest.fixture
def tiny(tmp_path):
    """root/tiny-imagenet-200 as unpacked from the zip: each image one flat colour that encodes (label, index)."""
    folder = tmp_path / "tiny-imagenet-200"
    folder.mkdir()
    (folder / "wnids.txt").write_text("\n".join(WNIDS) + "\n")
    (folder / "words.txt").write_text("".join(f"{w}\tname of {w}\n" for w in WNIDS))
    for wnid in WNIDS:
        label = sorted(WNIDS).index(wnid)
        for i in range(PER_CLASS):
            _save(folder / "train" / wnid / "images" / f"{wnid}_{i}.JPEG", _color(label, i), gray=(label, i) == (1, 3))
        (folder / "train" / wnid / f"{wnid}_boxes.txt").write_text("")
    lines = []
    for j, wnid in enumerate(reversed(WNIDS)):  # val_annotations.txt in its own order, not by class
        _save(folder / "val" / "images" / f"val_{j}.JPEG", _color(sorted(WNIDS).index(wnid), 0))
        lines.append(f"val_{j}.JPEG\t{wnid}\t0\t0\t63\t63")
    (folder / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    (folder / "test" / "images").mkdir(parents=True)  # unlabelled; never read
    return tmp_path


def _mean_colors(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), 3, -1).mean(-1)


def test_train_split_pairs_each_image_with_its_sorted_wnid_label(tiny):
    raw = read_tiny_imagenet(str(tiny))
    assert raw.images.dtype == np.uint8 and raw.images.shape == (3 * PER_CLASS, 3, 64, 64)
    assert raw.classes == tuple(sorted(WNIDS))
    assert np.bincount(raw.labels).tolist() == [PER_CLASS] * 3
    for image_color, label, k in zip(_mean_colors(raw.images), raw.labels, range(len(raw.labels))):
        i = k % PER_CLASS
        if (label, i) == (1, 3):  # saved as grayscale: three equal channels
            assert np.ptp(image_color) < 1
        else:
            np.testing.assert_allclose(image_color, _color(int(label), i), atol=3)


def test_test_split_is_the_labelled_val_folder_in_annotation_order(tiny):
    raw = read_tiny_imagenet(str(tiny / "tiny-imagenet-200"), "test")  # the folder itself works as root too
    expected = [sorted(WNIDS).index(w) for w in reversed(WNIDS)]
    assert raw.labels.tolist() == expected
    for image_color, label in zip(_mean_colors(raw.images), expected):
        np.testing.assert_allclose(image_color, _color(label, 0), atol=3)


def test_bundle_keeps_64px_images_on_the_device_and_trains(tiny):
    cfg = apply_overrides(TrainConfig(), {
        "data.name": "tiny_imagenet", "data.root": str(tiny), "data.val_fraction": 0.25, "data.batch_size": 4,
        "epochs": 1, "num_threads": 1,
    })
    bundle = build_data(cfg.data, seed=0)
    assert (bundle.num_classes, bundle.in_chans, bundle.image_size) == (3, 3, 64)
    assert (bundle.num_train, bundle.num_val) == (9, 3)
    x, y = next(iter(bundle.source.train(0)))
    assert x.shape == (4, 3, 64, 64) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert sum(len(y) for _, y in bundle.source.test()) == 3
    sink = MemorySink()
    last = loop.run(cfg, sink)
    assert last["epoch"] == 1 and np.isfinite(last["train/loss"]) and len(sink.metrics) == 1


def _error(root, split="train") -> str:
    with pytest.raises(DataError) as info:
        read_tiny_imagenet(str(root), split) if split != "check" else check_root("tiny_imagenet", str(root))
    message = str(info.value)
    assert "\n" not in message
    return message


def test_bad_roots_are_one_line_errors_naming_path_and_layout(tiny):
    message = _error(tiny / "nowhere", "check")
    assert str(tiny / "nowhere") in message and "wnids.txt" in message and "nothing is downloaded" in message
    folder = tiny / "tiny-imagenet-200"
    (folder / "val" / "val_annotations.txt").unlink()
    assert "missing: val/val_annotations.txt" in _error(tiny, "test")


def test_bad_files_name_the_file_and_what_was_expected(tiny):
    folder = tiny / "tiny-imagenet-200"
    (folder / "val" / "val_annotations.txt").write_text("val_0.JPEG\tn99999999\t0\t0\t1\t1\n")
    assert "line 1" in _error(tiny, "test") and "n99999999" in _error(tiny, "test")
    Image.new("RGB", (32, 32)).save(folder / "train" / WNIDS[0] / "images" / "small.JPEG")
    message = _error(tiny)
    assert "small.JPEG" in message and "32x32" in message and "64x64" in message
    (folder / "train" / WNIDS[0] / "images" / "small.JPEG").unlink()
    for image in (folder / "train" / WNIDS[1] / "images").iterdir():
        image.unlink()
    assert WNIDS[1] in _error(tiny)
