"""A task of one's own, named by `task.module`: imported by module path, validated, trained and scored by the loop."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.trainables.sinks import Reports
from trainables.config import TrainConfig
from trainables.config.overrides import ConfigError, apply_overrides
from trainables.loop import run
from trainables.tasks import build_task
from trainables.validate import validate

EXAMPLE = Path(__file__).parents[3] / "examples" / "tasks" / "focal.py"


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """The manual's example task (docs/guide/your-own-code.md), copied outside the package under another name, as a user's module would be."""
    shutil.copy(EXAMPLE, tmp_path / "my_focal_task.py")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "my_focal_task:FocalClassification"
    sys.modules.pop("my_focal_task", None)


def test_a_users_task_trains_and_reports_its_own_metrics(user_module):
    cfg = apply_overrides(TrainConfig(), {"task.module": user_module, "epochs": 2, "data.limit_train": 256,
                                          "num_threads": 1})
    validate(cfg, check_data=False)
    sink = Reports()
    run(cfg, sink)
    last = sink.reports[-1]
    for key in ("train/p_true", "val/p_true", "test/p_true", "train/loss_ce", "val/acc_best", "gap/train_val_acc"):
        assert key in last, key
    assert 0.0 <= last["val/p_true"] <= 1.0
    assert build_task(cfg.task).name == "focal_classification"


def test_validation_uses_the_tasks_declared_features(user_module):
    cfg = apply_overrides(TrainConfig(), {"task.module": user_module})
    with pytest.raises(ConfigError, match="focal_classification task does not support mixing"):
        validate(apply_overrides(cfg, {"recipe.mixup_alpha": 0.2}), check_data=False)
    with pytest.raises(ConfigError, match="leave task.name at its default"):
        validate(apply_overrides(cfg, {"task.name": "segmentation"}), check_data=False)


@pytest.mark.parametrize("module, message", [
    ("no_such_module_xyz:Task", "cannot import 'no_such_module_xyz:Task'"),
    ("trainables.config:TrainConfig", "is not a trainables.tasks.Task subclass"),
    ("trainables.config", "expected 'package.module:Class'"),
])
def test_a_task_module_that_cannot_be_used_is_one_line(module, message):
    with pytest.raises(ConfigError, match=message):
        build_task(apply_overrides(TrainConfig(), {"task.module": module}).task)


def test_an_unknown_task_name_lists_the_registered_ones():
    with pytest.raises(ConfigError, match="not one of classification, segmentation"):
        build_task(apply_overrides(TrainConfig(), {"task.name": "detection"}).task)


def test_a_tasks_own_options_are_set_typed_and_change_its_loss(user_module):
    import torch

    base = apply_overrides(TrainConfig(), {"task.module": user_module})
    assert build_task(base.task).option("gamma") == 2.0  # its declared default
    cfg = apply_overrides(base, {"task.options.gamma": "0"})  # as --set gives it: a string
    task = build_task(cfg.task)
    assert task.option("gamma") == 0.0 and isinstance(task.option("gamma"), float)
    logits, y = torch.tensor([[2.0, -1.0], [0.5, 0.3]]), torch.tensor([0, 1])
    plain = task.train_targets(cfg, None, batch_size=2).criterion(logits, y)
    focal = build_task(base.task).train_targets(base, None, batch_size=2).criterion(logits, y)
    assert torch.allclose(plain["loss"], plain["loss_ce"])  # gamma 0 is cross-entropy
    assert focal["loss"] < plain["loss"]  # gamma 2 down-weights the easy example
    assert apply_overrides(base, {"task.options.gamma": 1.0}).task.options == (("gamma", 1.0),)  # a search's value


def test_an_unknown_or_mistyped_option_is_one_line(user_module):
    base = apply_overrides(TrainConfig(), {"task.module": user_module})
    with pytest.raises(ConfigError, match=r"task.options.gama: the focal_classification task has no such option "
                                          r"\(its options: gamma\)"):
        validate(apply_overrides(base, {"task.options.gama": "1"}), check_data=False)
    with pytest.raises(ConfigError, match="task.options.gamma: expected float, got 'high'"):
        validate(apply_overrides(base, {"task.options.gamma": "high"}), check_data=False)
    with pytest.raises(ConfigError, match="the classification task has no such option"):
        validate(apply_overrides(TrainConfig(), {"task.options.gamma": "1"}), check_data=False)
    with pytest.raises(ConfigError, match="set one option at a time"):
        apply_overrides(base, {"task.options": "gamma=1"})


def test_options_are_params_and_a_mapping_in_the_yaml(user_module):
    from studies.tracking.logged_config import config_dict, trial_params

    cfg = apply_overrides(TrainConfig(), {"task.module": user_module, "task.options.gamma": 1.5})
    assert trial_params(cfg)["task.options.gamma"] == 1.5 and "task.dice_weight" not in trial_params(cfg)
    assert config_dict(cfg)["task"]["options"] == {"gamma": 1.5}
