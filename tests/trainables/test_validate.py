"""Up-front config checks: bad choices and ranges fail before a run, with a one-line message naming the key."""

import pytest

from trainables.config import TrainConfig
from trainables.config.overrides import ConfigError, apply_overrides, flatten
from trainables.config.ranges import RANGES, UNBOUNDED
from trainables.validate import validate


def test_defaults_are_valid():
    validate(TrainConfig())


@pytest.mark.parametrize(("key", "value"), [
    ("data.name", "imagenet"),
    ("optim.name", "lamb"),
    ("sched.name", "cosin"),
    ("precision", "fp8"),
    ("device", "tpu"),
    ("ses.beta_schedule", "exp"),
    ("ses.on_unreachable", "ignore"),
    ("ema.decay", 1.0),  # validated here only: build_ema trusts it
    ("monitor.collapse_ratio", 1.5),
    ("task.name", "detection"),
    ("task.dice_weight", -1.0),
    ("task.module", "no_module_xyz:Task"),
    ("model.name", "not_a_model_xyz"),
    ("epochs", 0),
    ("optim.lr", 0.0),
    ("data.batch_size", -1),
    ("ses.every_k", 0),
    ("data.val_fraction", 1.0),
    ("model.drop_rate", -0.1),
    ("data.image_size", 4),
    ("data.image_size", 64),  # the default mnist5k keeps its 28x28: only image folders are resized
    ("ses.beta", 1.5),  # a fraction of log d
    ("ses.beta", 0.0),
    ("ses.beta_end", 1.2),
    ("ses.lam", -0.01),
    ("optim.momentum", 1.0),
    ("optim.weight_decay", -1e-4),
    ("optim.grad_clip", -2.0),
    ("sched.gamma", 1.5),
    ("sched.warmup_epochs", -1.0),
    ("sched.eta_min", 0.5),  # above the default optim.lr=0.1
    ("recipe.mix_prob", 1.1),
    ("recipe.label_smoothing", 1.0),
    ("monitor.collapse_ratio", 2.0),
    ("data.eval_batch_size", 0),
    ("seed", -1),
])
def test_bad_value_is_named(key, value):
    cfg = apply_overrides(TrainConfig(), {key: value})
    with pytest.raises(ConfigError) as err:
        validate(cfg, check_data=False)
    message = str(err.value)
    assert "\n" not in message
    assert key in message and repr(value) in message


@pytest.mark.parametrize(("key", "value", "item"), [
    ("ses.beta_steps", (0.3, 1.7), 1.7),
    ("rob.severities", (1, 6), 6),
    ("sched.milestones", (0, 10), 0),
])
def test_a_bad_item_of_a_list_is_named(key, value, item):
    with pytest.raises(ConfigError) as err:
        validate(apply_overrides(TrainConfig(), {key: value}), check_data=False)
    assert key in str(err.value) and repr(item) in str(err.value)


def test_every_numeric_field_has_a_range():
    """A numeric field added later needs a row in trainables.config.ranges (or a reason to be in UNBOUNDED)."""
    numeric = {k for k, v in flatten(TrainConfig()).items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)
               or isinstance(v, tuple) and v and all(isinstance(i, (int, float)) for i in v)}
    assert numeric - set(RANGES) - UNBOUNDED == set()
    assert set(RANGES) - set(flatten(TrainConfig())) == set(), "ranges of fields that do not exist"


def test_ranges_read_as_a_person_writes_them():
    assert RANGES["ses.beta"].text() == "0 < value <= 1" and RANGES["optim.weight_decay"].text() == "value >= 0"
    assert RANGES["epochs"].text() == "1 <= value <= 100000"  # a count's ceiling, as --set takes it back
    expected = r"ses.beta: expected 0 < value <= 1 \(beta is a fraction of log d\), got 1.5"
    with pytest.raises(ConfigError, match=expected):
        validate(apply_overrides(TrainConfig(), {"ses.beta": 1.5}), check_data=False)


def test_missing_data_root_names_the_path():
    cfg = apply_overrides(TrainConfig(), {"data.name": "cifar10", "data.root": "/nonexistent/cifar"})
    validate(cfg, check_data=False)  # structure alone is fine
    with pytest.raises(ValueError, match="/nonexistent/cifar"):
        validate(cfg)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"task.name": "segmentation"}, "mnist5k gives labels, but the segmentation task trains on masks"),
    ({"recipe.randaugment_n": 2, "task.module": "trainables.tasks.classification:Classification"}, None),
    ({"task.module": "trainables.tasks.classification:Classification", "task.name": "segmentation"},
     "leave task.name at its default"),
])
def test_the_task_decides_which_data_and_features_fit(overrides, message):
    cfg = apply_overrides(TrainConfig(), overrides)
    if message is None:
        validate(cfg)
        return
    with pytest.raises(ConfigError, match=message):
        validate(cfg)
