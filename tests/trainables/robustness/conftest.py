"""Natural test images: 32x32 crops of scikit-learn's two bundled photographs, as float32 k/255 like raw_batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These tests run many tiny matmuls: on 2 shared cores a 2-thread pool stalls for seconds when a sibling job
    takes a core, so they run single-threaded (the setting is restored afterwards)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def photos() -> torch.Tensor:
    """(6, 3, 32, 32) float32 in [0, 1] on uint8 levels: three crops of each photo, downscaled to 64x96 first."""
    from sklearn.datasets import load_sample_images

    crops = []
    for photo in load_sample_images().images:
        small = np.asarray(Image.fromarray(photo).resize((96, 64), Image.BICUBIC))
        crops += [small[r:r + 32, c:c + 32] for r, c in ((0, 0), (32, 32), (16, 64))]
    return torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float() / 255

