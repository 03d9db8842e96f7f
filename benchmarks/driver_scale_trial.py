"""The closed-form trial `benchmarks.driver_scale` runs on both sides: val/acc a known function of the sampled config
and the epoch, so the driver's cost is all there is to time. A copy of the few lines of tests/studies/closed_form.py
it needs (benchmarks import no tests), with the same formula: the two runs' curves, hence ASHA's choices, match.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any, Callable

import ray.tune
from ray import cloudpickle

from trainables.checkpointing import trial_store
from trainables.checkpointing.checkpoint import HISTORY_FILE

PEAK_LR = 0.1  # val/acc peaks at this optim.lr (a bump on the log scale), as tests/studies/closed_form.py
STEPS_PER_EPOCH = 10  # the `step` axis the loop reports next to `epoch`

# Ray's workers need not import benchmarks: this module travels with its functions, by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def accuracy(lr: float, drop_rate: float, warmup_epochs: int, epoch: int) -> float:
    """tests/studies/closed_form.py's `accuracy` for a baseline (SES off) at seed 0: rises with epochs, peaks at
    PEAK_LR, lower with dropout and with warmup."""
    quality = math.exp(-math.log10(lr / PEAK_LR) ** 2) * (1 - 0.5 * drop_rate) * (1 - 0.05 * warmup_epochs)
    return 0.1 + 0.85 * quality * epoch / (epoch + 1)


def _restore(storage: str) -> dict[str, Any] | None:
    return trial_store.history(storage, ray.tune.get_context().get_trial_id())


def _report_with_checkpoint(metrics: dict[str, Any], state: dict[str, Any], storage: str) -> None:
    trial_store.save(storage, ray.tune.get_context().get_trial_id(),
                     lambda directory: (Path(directory) / HISTORY_FILE).write_text(json.dumps(state)))
    ray.tune.report(metrics)


class HpstudyTrial:
    """A `studies.tune.tuner.TrialFactory`: each epoch reported with the loop's keys and checkpointed as the loop
    does (its HISTORY_FILE), in one reused process, as tests/studies/closed_form.py's `ClosedForm()`."""

    def __call__(self, study, resolve: Callable[[dict], dict], storage: str):
        from functools import partial

        from studies.tune.tuner import TrialFn
        from trainables.ray_train import checkpointed

        def trial(config: dict[str, Any]) -> None:
            from trainables.config import TrainConfig
            from trainables.config.overrides import apply_overrides

            cfg = apply_overrides(TrainConfig(), resolve(config))
            state = _restore(storage) or {"epoch": 0, "history": [], "stop": None}
            if state["epoch"] >= cfg.epochs and state["history"]:  # none left: its last epoch again
                ray.tune.report(state["history"][-1])
            for epoch in range(state["epoch"] + 1, cfg.epochs + 1):
                acc = accuracy(cfg.optim.lr, cfg.model.drop_rate, cfg.sched.warmup_epochs, epoch)
                report = {"epoch": epoch, "step": epoch * STEPS_PER_EPOCH, "train/loss": 1.0 - acc,
                          "train/acc": min(1.0, acc + 0.02), "val/acc": acc, "val/loss": -math.log(acc),
                          "lr": cfg.optim.lr}
                if epoch == cfg.epochs:  # the study tests once, at the end (trainables.protocol.when_tested)
                    report.update({"test/acc": acc - 0.01, "test/loss": -math.log(acc - 0.01), "test/epoch": epoch})
                state = {"epoch": epoch, "history": [*state["history"], report], "stop": None}
                _report_with_checkpoint(report, state, storage)

        return TrialFn(trial, resources={"cpu": study.cpus_per_trial}, checkpointed=partial(checkpointed, storage),
                       reuse_process=True)


def plain_trainable(epochs: int) -> Callable[[dict[str, Any]], None]:
    """Plain Ray Tune's function trainable: the same val/acc each epoch, no checkpoint, no other keys."""
    def trainable(config: dict[str, Any]) -> None:
        for epoch in range(1, epochs + 1):
            acc = accuracy(config["optim.lr"], config["model.drop_rate"], config["sched.warmup_epochs"], epoch)
            ray.tune.report({"epoch": epoch, "val/acc": acc})

    return trainable
