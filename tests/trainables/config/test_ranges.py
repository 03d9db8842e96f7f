"""Values that cannot mean a run are refused before anything runs: inf and nan for every float field, and counts
above their documented ceiling (trainables.config.ranges), each as one line naming the key and the value."""

from __future__ import annotations

import math

import pytest

from trainables.config import TrainConfig
from trainables.config.overrides import ConfigError, apply_overrides, flatten
from trainables.config.ranges import MAX_EPOCHS, RANGES, Range
from trainables.validate import validate

DEFAULTS = flatten(TrainConfig())
FLOAT_FIELDS = sorted(k for k, v in DEFAULTS.items()
                      if isinstance(v, float) or isinstance(v, tuple) and v and isinstance(v[0], float))
INT_FIELDS = sorted(k for k, v in DEFAULTS.items() if isinstance(v, int) and not isinstance(v, bool)
                    or isinstance(v, tuple) and v and type(v[0]) is int)


@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "Infinity", "NaN"])
@pytest.mark.parametrize("key", FLOAT_FIELDS)
def test_set_refuses_a_non_finite_float_for_every_float_field(key, text):
    with pytest.raises(ConfigError) as err:
        apply_overrides(TrainConfig(), {key: text})
    assert str(err.value) == f"{key}: expected a finite number, got {text!r}"


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_a_non_finite_float_given_as_a_number_is_refused_too(value):
    """A study's space or Ray's trial config hands floats, not strings."""
    with pytest.raises(ConfigError, match="optim.lr: expected a finite number"):
        apply_overrides(TrainConfig(), {"optim.lr": value})
    with pytest.raises(ConfigError, match="ses.beta_steps: expected a finite number"):
        apply_overrides(TrainConfig(), {"ses.beta_steps": (0.3, value)})


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_no_range_holds_inf_or_nan(value):
    """A config built in a study file skips `--set`: validation refuses it there."""
    assert not any(r.holds(value) for r in RANGES.values())
    assert not Range().holds(value)


def test_every_count_has_a_ceiling():
    assert [k for k in INT_FIELDS if k in RANGES and RANGES[k].high == math.inf] == []


@pytest.mark.parametrize(("key", "value"), [
    ("epochs", 100_000_000),
    ("data.batch_size", 10**9),
    ("data.num_workers", 100_000),
    ("ses.every_k", 10**12),
    ("seed", 2**32),  # numpy's seeds are 32-bit: a larger one would share its draws with a smaller one
    ("sched.milestones", (10, 10**9)),
])
def test_a_count_above_its_ceiling_is_refused_in_one_line(key, value):
    with pytest.raises(ConfigError) as err:
        validate(apply_overrides(TrainConfig(), {key: value}), check_data=False)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{key}: expected ")
    assert str(value if isinstance(value, int) else value[1]) in message


def test_the_ceiling_reads_as_a_number_set_takes_back():
    assert RANGES["epochs"].text() == f"1 <= value <= {MAX_EPOCHS}" == "1 <= value <= 100000"
    assert RANGES["seed"].text() == "0 <= value <= 4294967295"
    validate(apply_overrides(TrainConfig(), {"epochs": MAX_EPOCHS}), check_data=False)  # the ceiling itself runs
