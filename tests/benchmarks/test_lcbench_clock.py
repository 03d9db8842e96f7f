"""The simulated clock: asynchronous workers in order of the surrogate's seconds, and every method spending exactly
the same epoch budget (on closed-form curves: no surrogate file needed)."""

import importlib.util

import numpy as np
import pytest

from benchmarks.lcbench import lcbench_run
from benchmarks.lcbench.sim_clock import simulate

EPOCHS = 52


def closed_form(config):
    """A curve that rises to a level set by the learning rate, with one second per epoch scaled by the batch size."""
    e = np.arange(1, EPOCHS + 1)
    level = 90.0 - 10.0 * abs(np.log10(config["learning_rate"]) + 2.5)
    val = level * (1 - np.exp(-e / (2 + config["num_layers"])))
    return np.cumsum(np.full(EPOCHS, 64.0 / config["batch_size"])), val, val - 1.0


class Scripted:
    """Stops every trial after `stop_at` epochs; records what it was told."""

    def __init__(self, stop_at):
        self.stop_at, self.ended = stop_at, []

    def suggest(self, trial_id):
        return {"learning_rate": 1e-3, "num_layers": 1, "batch_size": 64 * (1 + trial_id % 3)}

    def report(self, trial_id, result):
        return result.epoch < self.stop_at

    def end(self, trial_id, result):
        self.ended.append((trial_id, result.epoch))


def test_the_clock_finishes_epochs_in_simulated_time_and_spends_exactly_the_budget():
    method = Scripted(stop_at=2)
    log = simulate(method, closed_form, workers=3, budget=11, max_epochs=EPOCHS)
    assert len(log) == 11
    assert [s.clock for s in log] == sorted(s.clock for s in log)
    # trials 0, 1, 2 start at once, taking 1, 1/2 and 1/3 s an epoch: trial 2 finishes its two epochs first
    assert (log[0].trial, log[0].epoch, log[0].clock) == (2, 1, pytest.approx(1 / 3))
    assert method.ended[0] == (2, 2)


def _available(name):
    return name.split("-")[0] != "synetune" or importlib.util.find_spec("syne_tune") is not None


@pytest.mark.parametrize("name", list(lcbench_run.METHODS))
def test_every_method_spends_the_same_budget(name):
    if not _available(name):
        pytest.skip("syne-tune is not installed (pip install -c constraints.txt -e '.[bench]')")
    budget = 3 * EPOCHS
    log = simulate(lcbench_run.method(name).make(0, 4), closed_form, workers=4, budget=budget, max_epochs=EPOCHS)
    assert len(log) == budget
    assert all(1 <= s.epoch <= EPOCHS for s in log)


def test_an_unknown_method_names_the_valid_ones():
    with pytest.raises(KeyError, match="valid: random, hpstudy-tpe-asha"):
        lcbench_run.method("hyperopt")


def test_the_clis_method_names_are_the_runners():
    from benchmarks.lcbench.__main__ import ALL_METHODS, DEFAULT_METHODS

    assert tuple(DEFAULT_METHODS.split(",")) == lcbench_run.DEFAULT_METHODS
    assert ALL_METHODS.split(", ") == list(lcbench_run.METHODS)
