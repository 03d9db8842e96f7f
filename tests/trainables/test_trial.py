"""The training-function contract (`train(config, trial)`) without Ray: what a function gets, what it may report,
what a resumed one continues from, and the one-line errors of a function that breaks the contract."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
import torch

from trainables.trial import TrialError, run


class Sink:
    """A sink that keeps what it is told, as Ray's does: each report, and the last checkpoint state."""

    def __init__(self, state=None):
        self.reports, self.state = [], state

    def restore(self):
        return self.state

    def report(self, metrics, state):
        self.reports.append(metrics)
        if state is not None:
            self.state = state


def counting(epochs: int, *, checkpoint: bool = True):
    def train(config, trial):
        start = trial.checkpoint() or {"epoch": 0, "w": 0.0}
        w = start["w"]
        for epoch in range(start["epoch"] + 1, epochs + 1):
            w += config["lr"] * random.random()  # seeded by trial.seed; continued exactly after a resume
            trial.report(epoch, {"val/acc": w, "train/loss": 1 - w}, checkpoint={"epoch": epoch, "w": w} if checkpoint
                         else None)
    return train


def test_the_function_gets_its_config_seeded_rngs_and_a_device():
    seen = {}

    def train(config, trial):
        seen.update(config=config, seed=trial.seed, device=trial.device.type, draw=np.random.rand(),
                    torch=torch.rand(1).item(), rank=(trial.rank, trial.world_size))
        trial.report(1, {"val/acc": 0.5})

    run(train, {"lr": 0.1, "seed": 7}, Sink(), objectives=("val/acc",))
    np.random.seed(7)
    torch.manual_seed(7)
    assert seen["config"] == {"lr": 0.1, "seed": 7} and seen["seed"] == 7 and seen["rank"] == (0, 1)
    assert seen["draw"] == np.random.rand() and seen["torch"] == torch.rand(1).item()
    assert seen["device"] == ("cuda" if torch.cuda.is_available() else "cpu")


def test_a_resumed_function_continues_from_its_checkpoint_and_draws_as_an_unbroken_run():
    whole = Sink()
    run(counting(4), {"lr": 0.1, "seed": 1}, whole)
    cut = Sink()
    run(counting(2), {"lr": 0.1, "seed": 1}, cut)  # stopped after epoch 2 (a Ctrl-C, a dead process)
    resumed = Sink(cut.state)
    run(counting(4), {"lr": 0.1, "seed": 1}, resumed)
    assert [r["epoch"] for r in resumed.reports] == [3, 4]
    assert resumed.reports[-1]["val/acc"] == whole.reports[-1]["val/acc"]  # the RNG came back with the state
    assert [h["epoch"] for h in resumed.state["history"]] == [1, 2, 3, 4]


def test_reports_are_numbers_against_the_epoch():
    sink = Sink()

    def train(config, trial):
        trial.report(1, {"val/acc": torch.tensor(0.25), "train/loss": np.float32(2.0), "lr": 0.1, "step": 10})

    run(train, {}, sink, objectives=("val/acc",))
    assert sink.reports == [{"val/acc": 0.25, "train/loss": 2.0, "lr": 0.1, "step": 10, "epoch": 1}]


@pytest.mark.parametrize("train,message", [
    (lambda config, trial: None, "returned without calling trial.report"),
    (lambda config, trial: [trial.report(1, {"val/acc": 1.0}), trial.report(1, {"val/acc": 1.0})],
     "epoch 1 reported twice or out of order"),
    (lambda config, trial: trial.report(1, {"val/accuracy": 1.0}),
     "the study optimizes val/acc, which the first report (epoch 1) does not have; it reported val/accuracy"),
    (lambda config, trial: trial.report(1, {"accuracy": 1.0}), "metric 'accuracy' is not namespaced"),
    (lambda config, trial: trial.report(1, {"val/acc": "high"}), "val/acc='high' is not a number"),
    (lambda config, trial: trial.report(0, {"val/acc": 1.0}), "epoch must be an integer >= 1, got 0"),
])
def test_a_function_that_breaks_the_contract_fails_in_one_line(train, message):
    with pytest.raises(TrialError, match=re.escape(message)) as err:
        run(train, {}, Sink(), objectives=("val/acc",))
    assert "\n" not in str(err.value)


def test_a_labelled_stop_need_not_carry_the_metric():
    sink = Sink()
    run(lambda c, t: t.report(1, {"stop/reason": "diverged", "stop/detail": "loss is nan"}), {}, sink,
        objectives=("val/acc",))
    assert sink.reports[0]["stop/reason"] == "diverged"
