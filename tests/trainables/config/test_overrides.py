"""Strict dotted-key overrides: typed parsing, type checks, one-line errors that name the key, and round trips."""

import dataclasses

import pytest

from trainables.config import TrainConfig
from trainables.config.overrides import ConfigError, apply_overrides, flatten, parse_set_args


def test_nested_override_changes_only_that_field():
    base = TrainConfig()
    cfg = apply_overrides(base, {"optim.lr": 0.05, "ses.enabled": True, "epochs": 3})
    assert (cfg.optim.lr, cfg.ses.enabled, cfg.epochs) == (0.05, True, 3)
    assert cfg.optim.momentum == base.optim.momentum
    assert cfg.data == base.data
    assert base == TrainConfig()  # the input is left as it was


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("epochs", "7", 7),
        ("optim.lr", "0.05", 0.05),
        ("optim.lr", "1e-3", 1e-3),
        ("data.name", "digits", "digits"),
        ("sched.milestones", "20,35", (20, 35)),
        ("sched.milestones", "[20, 35]", (20, 35)),
        ("sched.milestones", "(20, 35)", (20, 35)),
        ("ses.beta_steps", "0.2, 0.8", (0.2, 0.8)),
    ],
)
def test_strings_are_parsed_by_field_type(key, text, expected):
    value = flatten(apply_overrides(TrainConfig(), {key: text}))[key]
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(("text", "expected"), [
    ("true", True), ("True", True), ("1", True), ("yes", True), ("on", True),
    ("false", False), ("FALSE", False), ("0", False), ("no", False), ("off", False),
])
def test_bool_strings(text, expected):
    assert apply_overrides(TrainConfig(), {"ses.enabled": text}).ses.enabled is expected


@pytest.mark.parametrize(("key", "text", "bad"), [
    ("optim.lr", "abc", "abc"),
    ("epochs", "3.5", "3.5"),
    ("ses.enabled", "maybe", "maybe"),
    ("sched.milestones", "20,x", "x"),  # a tuple names the offending item
])
def test_unparseable_string_names_key_and_value(key, text, bad):
    with pytest.raises(ConfigError) as err:
        apply_overrides(TrainConfig(), {key: text})
    assert key in str(err.value) and repr(bad) in str(err.value)


def test_int_is_accepted_for_float_field():
    cfg = apply_overrides(TrainConfig(), {"optim.lr": 1})
    assert cfg.optim.lr == 1.0 and type(cfg.optim.lr) is float


@pytest.mark.parametrize(("key", "value"), [
    ("epochs", True),  # bool is an int subclass; still rejected
    ("optim.lr", True),
    ("epochs", 3.0),
    ("optim.lr", "0.1x"),
    ("data.name", 3),
    ("ses.enabled", 1),
    ("sched.milestones", 20),
    ("sched.milestones", [20, True]),
])
def test_python_values_of_wrong_type_are_rejected(key, value):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        apply_overrides(TrainConfig(), {key: value})


def test_python_str_rejected_for_float():
    with pytest.raises(ConfigError, match="optim.lr"):
        apply_overrides(TrainConfig(), {"optim.lr": "fast"})


@pytest.mark.parametrize(("key", "suggestion"), [
    ("optim.lrr", "lr"),
    ("epoch", "epochs"),
    ("optm.lr", "optim"),
    ("ses.lamda", "lam"),
])
def test_unknown_key_is_named_with_a_close_match(key, suggestion):
    with pytest.raises(ConfigError) as err:
        apply_overrides(TrainConfig(), {key: "1"})
    message = str(err.value)
    assert "\n" not in message
    assert repr(key) in message
    assert f"did you mean {suggestion!r}" in message


def test_setting_a_section_is_an_error():
    with pytest.raises(ConfigError, match="section") as err:
        apply_overrides(TrainConfig(), {"optim": 1})
    assert "optim.lr" in str(err.value)  # tells the user what can be set instead


def test_dotting_into_a_value_is_an_error():
    with pytest.raises(ConfigError, match="epochs.x"):
        apply_overrides(TrainConfig(), {"epochs.x": 1})


def test_parse_set_args_splits_on_first_equals():
    assert parse_set_args(["optim.lr=0.05", " ses.enabled = true ", "data.root=a=b"]) == {
        "optim.lr": "0.05", "ses.enabled": "true", "data.root": "a=b",
    }


@pytest.mark.parametrize("item", ["noequals", "=5"])
def test_parse_set_args_rejects_items_without_key(item):
    with pytest.raises(ConfigError, match=repr(item)):
        parse_set_args([item])


def _modified() -> TrainConfig:
    return apply_overrides(TrainConfig(), {
        "epochs": 9, "data.name": "digits", "data.augment": False, "optim.lr": 0.02, "optim.name": "adamw",
        "sched.milestones": (3, 6), "ses.enabled": True, "ses.beta_steps": (0.1, 0.5), "ses.layers": "last:2",
    })


def test_flatten_round_trips_python_values():
    cfg = _modified()
    assert cfg != TrainConfig()
    assert apply_overrides(TrainConfig(), flatten(cfg)) == cfg


def test_flatten_round_trips_as_strings():
    """MLflow stores params as strings; they must come back as the same config."""
    cfg = _modified()
    assert apply_overrides(TrainConfig(), {k: str(v) for k, v in flatten(cfg).items()}) == cfg


def test_flatten_keys_are_the_dotted_names_set_accepts():
    flat = flatten(TrainConfig())
    assert {"epochs", "optim.lr", "data.limit_train", "sched.milestones", "ses.every_k"} <= set(flat)
    assert not any(dataclasses.is_dataclass(v) for v in flat.values())


def test_configs_are_frozen():
    cfg = TrainConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.epochs = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.optim.lr = 1.0
