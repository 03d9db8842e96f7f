"""The evaluation protocol as a run reports it: val/* per epoch and test/* once at the end on the kept weights, or
test/* every epoch without a validation split; settings that would decide on the test set are refused."""

from __future__ import annotations

import pytest
import torch

from tests.trainables.test_loop import Crash, MemorySink, tiny
from trainables import loop
from trainables.config.overrides import ConfigError
from trainables.parts import build_parts
from trainables.validate import validate

EPOCHS = 3


def _run(**overrides) -> MemorySink:
    sink = MemorySink()
    loop.run(tiny(epochs=EPOCHS, **overrides), sink)
    return sink


def _keys(metrics: dict, prefix: str) -> set[str]:
    return {k for k in metrics if k.startswith(prefix)}


def test_with_a_validation_split_the_test_split_is_measured_once_at_the_end():
    sink = _run()
    assert all(not _keys(m, "test/") for m in sink.metrics[:-1]), "no test number before the trial ends"
    last = sink.metrics[-1]
    assert {"test/acc", "test/loss", "test/epoch"} <= set(last) and last["test/epoch"] == EPOCHS
    assert all({"val/acc", "val/loss", "val/acc_best"} <= set(m) for m in sink.metrics)
    assert sink.states[-1]["history"][-1]["test/acc"] == last["test/acc"], "the checkpoint carries it too"


def test_without_a_validation_split_every_epoch_is_measured_on_test():
    sink = _run(**{"data.val_fraction": 0.0})
    for m in sink.metrics:
        assert {"test/acc", "test/loss", "gap/train_test_acc"} <= set(m)
        assert not _keys(m, "val/") and "best_epoch" not in m, "nothing is 'best' on the test set"
        assert m["gap/train_test_acc"] == pytest.approx(m["train/acc"] - m["test/acc"])
    assert sink.metrics[0]["test/acc"] != sink.metrics[-1]["test/acc"]


def _test_acc_of(cfg, weights) -> float:
    p = build_parts(cfg)
    p.model.load_state_dict(weights)
    return loop.evaluate(p, p.model, "test")["test/acc"]


def test_best_weights_are_the_ones_tested_and_their_epoch_is_reported():
    # mode=min on val/acc picks the worst epoch: artificial, but it makes "best" differ from "last".
    cfg = {"checkpoint.keep": "both", "checkpoint.mode": "min"}
    sink = _run(**cfg)
    accs = [m["val/acc"] for m in sink.metrics]
    best_epoch = accs.index(min(accs)) + 1
    last = sink.metrics[-1]
    assert last["test/epoch"] == best_epoch < EPOCHS
    assert last["test/acc"] == pytest.approx(_test_acc_of(tiny(epochs=EPOCHS), sink.states[best_epoch - 1]["model"]))
    assert last["test/acc_last"] == pytest.approx(_run().metrics[-1]["test/acc"]), "both: the last weights too"
    assert sink.states[-1]["best"]["epoch"] == best_epoch
    # The model goes on from its last weights: the checkpoint holds them, not the best ones.
    final = sink.states[-1]["model"]
    assert any(not torch.equal(final[k], sink.states[best_epoch - 1]["model"][k]) for k in final)


def test_a_resumed_run_keeps_its_best_weights(tmp_path):
    cfg = tiny(epochs=EPOCHS, **{"checkpoint.keep": "best", "checkpoint.mode": "min"})
    whole = MemorySink()
    loop.run(cfg, whole)
    crashed = MemorySink(crash_after=2, crash_dir=tmp_path)
    with pytest.raises(Crash):
        loop.run(cfg, crashed)
    resumed = MemorySink(state=crashed.states[-1])
    loop.run(cfg, resumed)
    for key in ("test/epoch", "test/acc"):
        assert resumed.metrics[-1][key] == pytest.approx(whole.metrics[-1][key]), key


def test_test_off_measures_nothing_on_test():
    assert not any(_keys(m, "test/") for m in _run(**{"eval.test": "off"}).metrics)


@pytest.mark.parametrize("overrides, named", [
    ({"data.val_fraction": 0.0, "monitor.patience": 3}, "monitor.patience"),
    ({"data.val_fraction": 0.0, "checkpoint.keep": "best"}, "checkpoint.keep"),
    ({"data.val_fraction": 0.0, "eval.test": "end"}, "eval.test"),
    ({"checkpoint.keep": "best", "checkpoint.metric": "test/acc"}, "checkpoint.metric"),
    ({"eval.test": "sometimes"}, "eval.test"),
    ({"checkpoint.keep": "first"}, "checkpoint.keep"),
])
def test_settings_that_would_decide_on_the_test_set_are_refused(overrides, named):
    with pytest.raises(ConfigError) as err:
        validate(tiny(**overrides), check_data=False)
    assert named in str(err.value) and "\n" not in str(err.value)
