"""A closed-form trial, to test the tuner and its bookkeeping without training (Syne Tune's way): val/acc is a known
function of the sampled config and the epoch, reported each epoch with the loop's keys and checkpointed as the loop
does (its `checkpoint.HISTORY_FILE`: epoch, per-epoch history, how it stopped), so a resume continues from it.

`main([...], trial_factory=ClosedForm())` runs a study through the real CLI in seconds; the fields script a
failure, a labelled stop or a Ctrl-C for chosen trials.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable

import ray.tune
from ray import cloudpickle

from trainables.checkpointing import trial_store
from trainables.checkpointing.checkpoint import HISTORY_FILE
from trainables.config import TrainConfig
from trainables.config.overrides import apply_overrides
from trainables.loop import STOP_DETAIL, STOP_REASON
from trainables.protocol import epoch_split, when_tested

PEAK_LR = 0.1  # val/acc peaks at this optim.lr (a bump on the log scale)
STEPS_PER_EPOCH = 10  # the `step` axis the loop reports next to `epoch`
DIVERGE_EPOCH = 2  # a trial `diverges` picks stops during this epoch, as the loop's divergence monitor would
FAILURE = "closed form refuses this configuration"  # the error `fails` trials raise

# Ray workers import modules by name, and test modules are not importable there: ship this one by value. Its values
# travel with it (the report keys, HISTORY_FILE); what it imports by name must be light: each trial is a new process.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def quality(cfg: TrainConfig) -> float:
    """In (0, 1]: 1 at optim.lr=PEAK_LR, lower away from it, with dropout and with warmup; SES's beta and the seed
    nudge it a little, so variants and seeds differ."""
    lr_fit = math.exp(-math.log10(cfg.optim.lr / PEAK_LR) ** 2)
    recipe = (1 - 0.5 * cfg.model.drop_rate) * (1 - 0.05 * cfg.sched.warmup_epochs)
    return lr_fit * recipe * (1 - 0.02 * (1 - cfg.ses.beta) * cfg.ses.enabled) * (1 - 0.001 * cfg.seed)


def accuracy(cfg: TrainConfig, epoch: int) -> float:
    """The accuracy trial `cfg` reports at `epoch`: rising with epochs; configs rank by `quality` at every epoch."""
    return 0.1 + 0.85 * quality(cfg) * epoch / (epoch + 1)


def epoch_report(cfg: TrainConfig, epoch: int) -> dict[str, Any]:
    """What the training loop reports after `epoch`: its split's (val, or test without one) metrics, the test split's
    at the end (or every epoch), the train metrics and the two axes."""
    acc = accuracy(cfg, epoch)
    split = epoch_split(cfg)
    report: dict[str, Any] = {"epoch": epoch, "step": epoch * STEPS_PER_EPOCH, "train/loss": 1.0 - acc,
                              "train/acc": min(1.0, acc + 0.02), f"{split}/acc": acc, f"{split}/loss": -math.log(acc),
                              "lr": cfg.optim.lr}
    if cfg.rob.enabled:  # a robustness study's objectives: rob/acc falls as lambda rises, SES every step costs time
        report.update({"rob/acc": acc * (1 - 2 * cfg.ses.lam * cfg.ses.enabled),
                       "sys/epoch_s": 1.0 + cfg.ses.enabled / cfg.ses.every_k})
    tested = when_tested(cfg)
    if split == "val" and (tested == "every_epoch" or (tested == "end" and epoch == cfg.epochs)):
        report.update({"test/acc": acc - 0.01, "test/loss": -math.log(acc - 0.01)})
        if tested == "end":
            report["test/epoch"] = epoch
    return report


def _normal(*key) -> float:
    """A standard normal draw fixed by `key` (the same in every process: no PYTHONHASHSEED)."""
    import random

    return random.Random(repr(key)).gauss(0.0, 1.0)


def _shifted(report: dict[str, Any], shift: float) -> dict[str, Any]:
    return {k: v + shift if k.endswith("/acc") else v for k, v in report.items()}


def never(cfg: TrainConfig) -> bool:
    return False


def always(cfg: TrainConfig) -> bool:
    return True


def ses_beta_is(beta: float, seed: int | None = None) -> Callable[[TrainConfig], bool]:
    """A predicate for `ClosedForm`'s fields: the SES variant at `beta` (and `seed`). Predicates come from here, as
    this module travels to the workers by value; a test module's own functions would not unpickle there."""
    def match(cfg: TrainConfig) -> bool:
        return cfg.ses.enabled and cfg.ses.beta == beta and (seed is None or cfg.seed == seed)

    return match


def baseline_at(seed: int) -> Callable[[TrainConfig], bool]:
    """A predicate for `ClosedForm`'s fields: the baseline (SES off) at `seed`."""
    def match(cfg: TrainConfig) -> bool:
        return not cfg.ses.enabled and cfg.seed == seed

    return match


def lr_is(lr: float, seed: int | None = None) -> Callable[[TrainConfig], bool]:
    """A predicate for `ClosedForm`'s fields: the configuration trained at optim.lr `lr` (and `seed`)."""
    def match(cfg: TrainConfig) -> bool:
        return cfg.optim.lr == lr and (seed is None or cfg.seed == seed)

    return match


def _restore(storage: str) -> dict[str, Any] | None:
    return trial_store.history(storage, ray.tune.get_context().get_trial_id())


def _report(metrics: dict[str, Any], state: dict[str, Any] | None, storage: str) -> None:
    if state is not None:  # None: a stopped trial's last words, nothing to resume from (as trainables.ray_train's sink)
        trial_store.save(storage, ray.tune.get_context().get_trial_id(),
                         lambda directory: (Path(directory) / HISTORY_FILE).write_text(json.dumps(state)))
    ray.tune.report(metrics)


@dataclass(frozen=True)
class ClosedForm:
    """A `studies.tune.tuner.TrialFactory`. Each predicate gets the trial's resolved config."""

    fails: Callable[[TrainConfig], bool] = never  # raises before its first report, as a data error would
    diverges: Callable[[TrainConfig], bool] = never  # a labelled stop (stop/reason=diverged) in DIVERGE_EPOCH
    interrupts: Callable[[TrainConfig], bool] = never  # Ctrl-C to the driver after `interrupt_epoch`, then waits
    interrupt_epoch: int = 2
    marker: str = ""  # a file the one Ctrl-C (or crash) creates, so a resumed study is not interrupted again
    interrupt_times: int = 1  # Ctrl-Cs in all: the k-th creates marker.k (k > 1), one per session
    crashes: Callable[[TrainConfig], bool] = never  # its process dies (os._exit) after `interrupt_epoch`, once
    max_failures: int = 0  # Tune's retries of a trial that died or raised (TrialFn.max_failures)
    epoch_s: float = 0.0  # sleep per epoch: lets trials overlap the way trained ones do
    reuse_process: bool = True  # False: a process per trial, as the Ray Train trial has (~1 s more per trial)
    noise: float = 0.0  # SD of a per-trial shift of every accuracy, drawn from (seed, SES on, beta): seeds then differ

    def __call__(self, study, resolve: Callable[[dict], dict], storage: str):
        # Here, in the driver: a global would make each trial import Ray Train and torch. The real trial's reader of
        # its checkpoints (a folder or a --storage URI): this trial checkpoints in the same trial folders (trial_store).
        from studies.tune.tuner import TrialFn
        from trainables.ray_train import checkpointed

        driver = os.getpid()  # the CLI's process: Tune's Ctrl-C handler runs there

        def trial(config: dict[str, Any]) -> None:
            cfg = apply_overrides(TrainConfig(), resolve(config))
            if self.fails(cfg):
                raise RuntimeError(FAILURE)
            state = _restore(storage) or {"epoch": 0, "history": [], "stop": None}
            if state["epoch"] >= cfg.epochs and state["history"]:  # none left: its last epoch again (as the sink's
                ray.tune.report(state["history"][-1])  # resend_last), Tune ends the trial on it
            for epoch in range(state["epoch"] + 1, cfg.epochs + 1):
                time.sleep(self.epoch_s)
                report = epoch_report(cfg, epoch)
                if self.noise:
                    report = _shifted(report, self.noise * _normal(cfg.seed, cfg.ses.enabled, cfg.ses.beta))
                if epoch == DIVERGE_EPOCH and self.diverges(cfg):
                    nan = {"train/loss": math.nan, f"{epoch_split(cfg)}/acc": math.nan}
                    _report({**report, **nan, STOP_REASON: "diverged",
                             STOP_DETAIL: f"non-finite loss (nan) at step {report['step'] - 3}"}, None, storage)
                    return
                state = {"epoch": epoch, "history": [*state["history"], report], "stop": None}
                _report(report, state, storage)
                if epoch == self.interrupt_epoch and self.interrupts(cfg) and self._first_interrupt():
                    os.kill(driver, signal.SIGINT)
                    time.sleep(120)  # Tune stops this trial long before; a resume continues it from `state`
                if epoch == self.interrupt_epoch and self.crashes(cfg) and self._first_interrupt():
                    time.sleep(1.0)  # Tune has the epoch's report and checkpoint; then the process dies with it
                    os._exit(1)

        return TrialFn(trial, resources={"cpu": study.cpus_per_trial}, checkpointed=partial(checkpointed, storage),
                       reuse_process=self.reuse_process, max_failures=self.max_failures)

    def _first_interrupt(self) -> bool:
        """Whether this session's Ctrl-C is still due: one per session, `interrupt_times` in all."""
        for k in range(1, self.interrupt_times + 1):
            try:
                with open(self.marker if k == 1 else f"{self.marker}.{k}", "x"):
                    return True
            except FileExistsError:
                continue
        return False
