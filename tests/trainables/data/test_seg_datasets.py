"""Mask datasets: MNIST-seg's masks are its digits' ink, segfolder round-trips the synthetic writer and names a
malformed file, and the training crop/flip is replayable and moves image and mask together."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from trainables.config import DataConfig
from trainables.data import DataError, build_data, check_root, data_kind
from trainables.data.batching import epoch_generator
from trainables.data.seg_datasets import MNIST_INK, MaskAugment, read_mnist_seg
from trainables.data.synthetic import write_dataset, write_segfolder


def _seg(root, **kw) -> DataConfig:
    return DataConfig(name="segfolder", root=str(root), **{"batch_size": 4, "val_fraction": 0.25, **kw})


@pytest.fixture
def segfolder(tmp_path):
    return write_segfolder(tmp_path / "seg", train=12, test=4, size=16)


def test_kinds():
    assert (data_kind("mnist_seg"), data_kind("segfolder"), data_kind("mnist5k")) == ("masks", "masks", "labels")


def test_mnist_seg_masks_are_the_digits_ink_labelled_digit_plus_one():
    raw = read_mnist_seg(DataConfig(name="mnist_seg"), "test")
    assert raw.images.shape == (1000, 1, 28, 28) and raw.masks.shape == (1000, 28, 28)
    assert raw.classes == ("background", *map(str, range(10)))
    digit = raw.masks.reshape(1000, -1).max(1) - 1  # each image holds one digit
    expected = np.where(raw.images[:, 0] >= MNIST_INK, digit[:, None, None] + 1, 0)
    assert np.array_equal(raw.masks, expected)
    assert 0.05 < (raw.masks > 0).mean() < 0.3  # ink is a minority of the pixels
    assert read_mnist_seg(DataConfig(name="mnist_seg"), "val") is None


def test_mnist_seg_bundle_batches_are_float_images_and_int64_masks():
    bundle = build_data(DataConfig(name="mnist_seg", batch_size=32, limit_train=64), seed=0)
    assert (bundle.num_classes, bundle.in_chans, bundle.image_size, bundle.num_train) == (11, 1, 28, 64)
    x, mask = next(bundle.train_batches(0))
    assert (x.shape, x.dtype, mask.shape, mask.dtype) == ((32, 1, 28, 28), torch.float32, (32, 28, 28), torch.int64)
    vx, vmask = next(bundle.val_batches())
    assert vmask.dtype == torch.int64 and vx.shape[1:] == (1, 28, 28)


def test_training_batches_replay_for_the_same_seed_and_epoch():
    cfg = DataConfig(name="mnist_seg", batch_size=32, limit_train=96)
    first, again = (list(build_data(cfg, seed=3).train_batches(1)) for _ in range(2))
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(first, again))
    other = next(build_data(cfg, seed=3).train_batches(2))
    assert not torch.equal(first[0][0], other[0])


def test_augmented_masks_stay_on_their_digits_ink():
    bundle = build_data(DataConfig(name="mnist_seg", batch_size=64, limit_train=64), seed=0)
    x, mask = next(bundle.train_batches(0))
    pixels = (bundle.source.transform.unit(x) * 255).round()[:, 0]
    digit = mask.reshape(64, -1).max(1).values
    assert torch.equal(mask, torch.where(pixels >= MNIST_INK, digit[:, None, None], 0))
    unaugmented = build_data(DataConfig(name="mnist_seg", batch_size=64, limit_train=64, augment=False), seed=0)
    assert not torch.equal(x, next(unaugmented.train_batches(0))[0])  # the crop moved pixels


def test_crop_and_flip_move_image_and_mask_alike():
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (64, 3, 12, 12), dtype=torch.uint8)
    mask = (x[:, 0] > 127).to(torch.uint8) + (x[:, 1] > 127).to(torch.uint8)  # a function of the pixels
    out, out_mask = MaskAugment(12, flip=True)(x, mask, gen)
    expected = (out[:, 0] > 127).long() + (out[:, 1] > 127).long()
    assert out.dtype == torch.uint8 and torch.equal(out_mask, expected)  # zero padding is background on both
    again = MaskAugment(12, flip=True)(x, mask, torch.Generator().manual_seed(0))
    assert torch.equal(out, again[0])
    flipped = MaskAugment(12, flip=True)(x, mask, epoch_generator(0, 0))[0]
    assert not torch.equal(flipped, MaskAugment(12, flip=False)(x, mask, epoch_generator(0, 0))[0])


def test_segfolder_round_trips_the_synthetic_writer(segfolder):
    bundle = build_data(_seg(segfolder), seed=0)
    assert (bundle.num_classes, bundle.in_chans, bundle.image_size) == (3, 3, 16)  # classes.txt names 3
    assert (bundle.num_train, bundle.num_val, bundle.steps_per_epoch()) == (9, 3, 2)
    val_x, val_mask = next(bundle.val_batches())
    ids = [f"{i:04d}" for i in bundle.source.val_idx.tolist()]  # a train/ without test/ keeps every id
    files = [np.asarray(Image.open(segfolder / "train" / "images" / f"{i}.png")) for i in ids]
    assert torch.equal((bundle.source.transform.unit(val_x) * 255).round().byte(),
                       torch.from_numpy(np.stack(files)).permute(0, 3, 1, 2))
    masks = [np.asarray(Image.open(segfolder / "train" / "masks" / f"{i}.png")) for i in ids]
    assert torch.equal(val_mask, torch.from_numpy(np.stack(masks)).long())
    assert sum(len(m) for _, m in bundle.test_batches()) == 4  # test/


def test_flat_folder_holds_a_fixed_fifth_out_for_test_and_infers_classes(segfolder, tmp_path):
    flat = tmp_path / "flat"
    shutil.copytree(segfolder / "train", flat)  # images/, masks/ at the root, no classes.txt
    bundle = build_data(_seg(flat, val_fraction=0.0), seed=0)
    top = max(int(np.asarray(Image.open(p)).max()) for p in (flat / "masks").iterdir())
    assert bundle.num_classes == top + 1
    test = sum(len(m) for _, m in bundle.test_batches())
    assert (bundle.num_train, test) == (12 - 3, 3)  # 20% of 12, rounded up by scikit-learn
    again = build_data(_seg(flat, val_fraction=0.0, split_seed=5), seed=1)
    assert torch.equal(next(again.test_batches())[1], next(bundle.test_batches())[1])  # fixed, whatever the seeds


def test_val_folder_is_the_validation_split(segfolder):
    shutil.copytree(segfolder / "test", segfolder / "val")
    bundle = build_data(_seg(segfolder, val_fraction=0.5), seed=0)
    assert (bundle.num_train, bundle.num_val) == (12, 4)


def test_split_folders_beside_a_flat_root_are_refused(segfolder, tmp_path):
    flat = tmp_path / "flat"
    shutil.copytree(segfolder / "train", flat)
    shutil.copytree(segfolder / "test", flat / "test")
    with pytest.raises(DataError, match=r"flat/test is read only beside .*flat/train"):
        build_data(_seg(flat), seed=0)


def test_image_size_resizes_masks_by_nearest_neighbour(segfolder):
    bundle = build_data(_seg(segfolder, image_size=24), seed=0)
    x, mask = next(bundle.val_batches())
    assert x.shape[-2:] == mask.shape[-2:] == (24, 24) and set(mask.unique().tolist()) <= {0, 1, 2}


def _mask(path, array, mode=None):
    Image.fromarray(np.asarray(array, dtype=np.uint8)).convert(mode or "L").save(path)


@pytest.mark.parametrize(("breakage", "message"), [
    (lambda r: (r / "train/masks/0003.png").unlink(), r"ids differ between .*train/images and .*train/masks: "
                                                      r"no mask for 0003$"),
    (lambda r: _mask(r / "train/masks/0002.png", np.zeros((8, 16))), r"mask .*0002.png is 16x8 but its image "
                                                                     r".*0002.png is 16x16"),
    (lambda r: (r / "train/images/0001.png").write_bytes(b"not a png"), r"cannot read .*images/0001.png"),
    (lambda r: _mask(r / "train/masks/0001.png", np.zeros((16, 16)), "RGB"), r"mask .*0001.png is a mode-RGB PNG"),
    (lambda r: _mask(r / "train/masks/0004.png", np.full((16, 16), 7)), r"0004.png holds class 7, but classes.txt "
                                                                        r"names 3"),
    (lambda r: shutil.rmtree(r / "train/masks"), r"no .*train/masks: expected"),
])
def test_segfolder_names_the_malformed_file(segfolder, breakage, message):
    breakage(segfolder)
    with pytest.raises(DataError, match=message) as err:
        build_data(_seg(segfolder), seed=0)
    assert "\n" not in str(err.value)


def test_segfolder_refuses_void_labels_and_mixed_sizes_without_image_size(segfolder):
    (segfolder / "classes.txt").unlink()
    _mask(segfolder / "train/masks/0000.png", np.full((16, 16), 255))
    with pytest.raises(DataError, match=r"0000.png holds 255 \(VOC's 'void' label\)"):
        build_data(_seg(segfolder), seed=0)
    write_segfolder(segfolder, train=12, test=4, size=16)  # repaired
    Image.new("RGB", (20, 20)).save(segfolder / "train/images/0005.png")
    _mask(segfolder / "train/masks/0005.png", np.zeros((20, 20)))
    with pytest.raises(DataError, match=r"0000.png is 16x16, .*0005.png is 20x20: without data.image_size"):
        build_data(_seg(segfolder), seed=0)
    assert build_data(_seg(segfolder, image_size=16), seed=0).num_train == 9  # resized: accepted


def test_check_root_reads_no_images_and_names_the_layout(segfolder, tmp_path):
    (segfolder / "train/images/0000.png").write_bytes(b"")  # unreadable, but check_root does not open it
    check_root("segfolder", str(segfolder))
    with pytest.raises(DataError, match=r"no .*empty/images, .*empty/masks: expected <root>/images/<id>.png"):
        check_root("segfolder", str(tmp_path / "empty"))
    with pytest.raises(DataError, match="data.root is empty"):
        check_root("segfolder", "")


def test_smoke_writer_gives_a_segfolder_root(tmp_path):
    root = write_dataset("segfolder", tmp_path)
    bundle = build_data(_seg(root, batch_size=8), seed=0)
    assert (bundle.num_classes, bundle.image_size) == (3, 32)  # 32: smp's Unet, FPN ... take it as it is
