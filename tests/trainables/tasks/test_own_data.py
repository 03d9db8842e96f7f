"""A task of one's own that reads its own data (`data.name=task`, `Task.read_data`): the platform cuts the validation
split, normalizes and batches it as its own datasets, and the trainer's recipe and robustness work on it."""

from __future__ import annotations

import sys
import textwrap

import pytest

from tests.trainables.sinks import Reports
from trainables.config import TrainConfig
from trainables.config.overrides import ConfigError, apply_overrides
from trainables.data import DataError
from trainables.loop import run
from trainables.validate import validate

TASK = '''
    import numpy as np

    from trainables.data.sources import RawImages
    from trainables.tasks.classification import Classification


    class Stripes(Classification):
        """Horizontal vs vertical stripes, 3x16x16, made here: a dataset of one's own."""

        name = "stripes"
        flip_data = True

        def read_data(self, cfg, split):
            rng = np.random.default_rng(0 if split == "train" else 1)
            n = 400 if split == "train" else 100
            labels = rng.integers(0, 2, n)
            images = np.zeros((n, 3, 16, 16), np.uint8)
            for i, label in enumerate(labels):
                phase = rng.integers(0, 4)
                if label:
                    images[i, :, :, phase::4] = 255
                else:
                    images[i, :, phase::4, :] = 255
            return RawImages(images, labels.astype(np.int64), ("horizontal", "vertical"))
'''


@pytest.fixture
def stripes(tmp_path, monkeypatch):
    (tmp_path / "my_stripes.py").write_text(textwrap.dedent(TASK))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "my_stripes:Stripes"
    sys.modules.pop("my_stripes", None)


def test_a_tasks_own_data_is_split_batched_and_trained_with_the_recipe(stripes):
    cfg = apply_overrides(TrainConfig(), {
        "task.module": stripes, "data.name": "task", "data.val_fraction": 0.25, "epochs": 3, "num_threads": 1,
        "data.batch_size": 32, "recipe.label_smoothing": 0.1, "rob.enabled": True, "rob.max_images": 32,
        "rob.corruptions": "gaussian_noise", "rob.severities": "1", "optim.lr": 0.05})
    validate(cfg)
    sink = Reports()
    run(cfg, sink)
    last = sink.reports[-1]
    assert last["val/acc"] > 0.9 and "test/acc" in last and "rob/acc" in last  # stripes are easy
    assert sink.reports[0]["epoch"] == 1 and len(sink.reports) == 3


def test_data_name_task_needs_a_task_that_reads_data():
    with pytest.raises(ConfigError, match="data.name=task: the classification task reads no data of its own"):
        validate(apply_overrides(TrainConfig(), {"data.name": "task"}), check_data=False)


def test_build_data_refuses_a_task_without_a_reader():
    from trainables.data import build_data

    with pytest.raises(DataError, match="reads no data of its own"):
        build_data(TrainConfig().data.__class__(name="task"), 0)
