"""Up-front config checks: bad choices and ranges fail before a run, with a one-line message naming the key."""

import pytest

from trainables.config import TrainConfig
from trainables.overrides import ConfigError, apply_overrides
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
    ("model.name", "not_a_model_xyz"),
    ("epochs", 0),
    ("optim.lr", 0.0),
    ("data.batch_size", -1),
    ("ses.every_k", 0),
    ("data.val_fraction", 1.0),
    ("model.drop_rate", -0.1),
    ("data.image_size", 4),
    ("data.image_size", 64),  # the default mnist5k keeps its 28x28: only image folders are resized
])
def test_bad_value_is_named(key, value):
    cfg = apply_overrides(TrainConfig(), {key: value})
    with pytest.raises(ConfigError) as err:
        validate(cfg, check_data=False)
    message = str(err.value)
    assert "\n" not in message
    assert key in message and repr(value) in message


def test_missing_data_root_names_the_path():
    cfg = apply_overrides(TrainConfig(), {"data.name": "cifar10", "data.root": "/nonexistent/cifar"})
    validate(cfg, check_data=False)  # structure alone is fine
    with pytest.raises(ValueError, match="/nonexistent/cifar"):
        validate(cfg)
