"""DataBundle.raw_batches / .normalize: the validation images before normalization, for in-memory and folder data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from trainables.config import DataConfig
from trainables.data import build_data


@pytest.fixture
def folder(tmp_path):
    """train/<class>/<png>: 2 classes x 5 images of assorted sizes (resized to 32x32 on load)."""
    rng = np.random.default_rng(0)
    for c in ("a", "b"):
        (tmp_path / "train" / c).mkdir(parents=True)
        for i in range(5):
            h, w = rng.integers(12, 40, 2)
            Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(tmp_path / "train" / c / f"{i}.png")
    return tmp_path


def _check_raw_matches(bundle, expected: torch.Tensor, max_images: int, sizes: list[int]) -> None:
    raw = list(bundle.raw_batches("val", max_images))
    assert [len(y) for _, y in raw] == sizes
    x = torch.cat([x for x, _ in raw])
    assert x.dtype == torch.float32 and x.min() >= 0 and x.max() <= 1
    assert torch.equal(x * 255, expected[:len(x)].float())  # exactly the stored uint8 pixels
    labels = torch.cat([y for _, y in bundle.val_batches()])
    assert torch.equal(torch.cat([y for _, y in raw]), labels[:len(x)])
    normalized = torch.cat([x for x, _ in bundle.val_batches()])[:len(x)]
    assert torch.allclose(bundle.normalize(x), normalized, atol=1e-5)  # normalize(raw_batches) == val_batches


def test_in_memory_raw_batches_and_normalize():
    bundle = build_data(DataConfig(name="digits", eval_batch_size=64), seed=0)
    stored = bundle.source.images[bundle.source.val_idx]
    _check_raw_matches(bundle, stored, 0, [64, 64, 16])  # 0 = all 144 held-out digits
    _check_raw_matches(bundle, stored, 100, [64, 36])


def test_imagefolder_raw_batches_and_normalize(folder):
    bundle = build_data(DataConfig(name="imagefolder", root=str(folder), val_fraction=0.4, eval_batch_size=3), seed=0)
    decoded = torch.stack([bundle.source.dataset[int(i)][0] for i in bundle.source.val_idx])
    _check_raw_matches(bundle, decoded, 0, [3, 1])
    _check_raw_matches(bundle, decoded, 2, [2])
