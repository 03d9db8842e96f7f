"""The generated datasets `--smoke` trains on are read by the real readers, in the real on-disk layouts."""

from __future__ import annotations

import pytest

from trainables.config import DataConfig
from trainables.data import DATASETS, DataError, build_data, check_root
from trainables.data.synthetic import WRITERS, write_dataset


@pytest.mark.parametrize("name, classes", [("cifar10", 10), ("cifar100", 100), ("tiny_imagenet", 10),
                                           ("imagefolder", 3)])
def test_each_writer_makes_what_its_reader_reads(tmp_path, name, classes):
    root = write_dataset(name, tmp_path / name)
    check_root(name, str(root))
    bundle = build_data(DataConfig(name=name, root=str(root), batch_size=8), seed=0)
    assert bundle.num_classes == classes and bundle.steps_per_epoch() >= 2
    x, y = next(iter(bundle.train_batches(0)))
    assert x.shape[0] == 8 and int(y.max()) < classes
    assert sum(len(y) for _, y in bundle.test_batches()) >= 6


def _reads_a_root(name: str) -> bool:
    """An on-disk dataset refuses a root that does not exist; an embedded one has no root to check."""
    try:
        check_root(name, "/nonexistent/hpstudy-data")
    except DataError:
        return True
    return False


def test_every_on_disk_dataset_has_a_writer():
    on_disk = {name for name in DATASETS if _reads_a_root(name)}
    assert {"cifar10", "tiny_imagenet"} <= on_disk and not {"mnist5k", "breast_cancer"} & on_disk
    assert set(WRITERS) == on_disk
    assert write_dataset("mnist5k", "unused") is None  # embedded: nothing to write
