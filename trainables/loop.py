"""The training loop: epochs of train -> evaluate -> watch -> report(metrics, checkpoint), until done or stopped.

It imports no Ray; a `Sink` (trainables.trial: Ray's, through a trial's handle, or a local folder) decides where
reports and checkpoints go. With several workers (DDP, trainables.distributed) every rank runs it and reports rank
0's figures; the sink keeps one copy.
"""

from __future__ import annotations

import gc
import json
import math
import time
from functools import partial
from typing import Any

import torch
from torch import nn

from trainables import distributed
from trainables.checkpointing import checkpoint, model_spec
from trainables.checkpointing.warm_start import apply_init
from trainables.config import TrainConfig
from trainables.config.overrides import apply_overrides, flatten
from trainables.parts import Parts, build_parts
from trainables.step import train_one_epoch
from trainables.trial import Sink, Trial
from trainables.watch.jacobian import build_kappa
from trainables.watch.meters import ProcessMeter, peak_memory_mb, reset_peak_memory
from trainables.watch.steady import SteadyMeans
from trainables.watch.stops import StopTraining, is_oom, oom_retry_config, oom_stop

STOP_REASON, STOP_DETAIL = "stop/reason", "stop/detail"  # report keys of a labelled stop (strings)
INIT_REPORT = "init/report"  # report key: the warm-start coverage report (text), sent with the first epoch
# report key: {flattened key: value} of what an out-of-memory retry changed (JSON text), sent with its first report,
# so the trial's logged config is the one that trained
CONFIG_CHANGE = "config/changed"


def train(config: dict[str, Any], trial: Trial) -> None:
    """hpstudy's trainer as a training function (`trainables.trial`): `config` is a flattened TrainConfig (as
    `--set` and a study's space name its keys). Every trial runs through this contract, a researcher's own
    function's and this one alike."""
    run(apply_overrides(TrainConfig(), config), _TrialSink(trial))


class _TrialSink:
    """The loop's sink, through the trial's handle: its checkpoint, and a report per epoch (or a stop's)."""

    def __init__(self, trial: Trial) -> None:
        self._trial = trial

    def restore(self) -> dict[str, Any] | None:
        return self._trial.checkpoint()

    def report(self, metrics: dict[str, Any], state: dict[str, Any] | None) -> None:
        self._trial.report(int(metrics["epoch"]), metrics, checkpoint=state)


@torch.no_grad()
def evaluate(p: Parts, model: nn.Module, split: str = "val", suffix: str = "") -> dict[str, float]:
    """The task's metrics of `model` on `split` ("val" | "test"); the EMA's weights carry the suffix '_ema'."""
    model.eval()  # SES hooks capture nothing in eval mode
    meter = p.task.meter(p.device, p.data)
    kappa = build_kappa(p.cfg.eval.jacobian)  # κ(J) per input (eval.jacobian), or a meter of nothing
    for x, y in p.data.val_batches() if split == "val" else p.data.test_batches():
        with p.precision.autocast():
            output = p.task.forward(model, x)
        meter.update(output, y)
        kappa.update(partial(p.task.forward, model), x)  # float32: outside autocast
    return {f"{split}/{k}{suffix}": v for k, v in {**meter.result(), **kappa.result()}.items()}


def _evaluate_epoch(p: Parts, epoch: int | None = None) -> dict[str, float]:
    """The epoch's evaluation split (val, or test without one), the test split too with eval.test=every_epoch,
    each for the weights and the EMA's; corruption robustness too when it is due after `epoch` epochs."""
    splits = [p.split] + (["test"] if p.cfg.eval.test == "every_epoch" and p.split != "test" else [])
    metrics: dict[str, float] = {}
    for split in splits:
        metrics.update(evaluate(p, p.model, split))
        if p.ema is not None:
            metrics.update(evaluate(p, p.ema.module, split, "_ema"))
    if p.rob is not None and epoch is not None and p.rob.due(epoch, p.cfg.epochs):
        p.model.eval()
        with p.precision.autocast():
            metrics.update(p.rob(p.model))
    return metrics


def _final_test(p: Parts, epoch: int) -> dict[str, float]:
    """eval.test=end: the test split once, on the weights checkpoint.keep names; test/epoch says whose they are.

    keep=best (or both) tests the best epoch's weights as test/*, both adds the last ones' as test/*_last; the
    model is given its last weights back, so the checkpoint (and a resume) continues from them.
    """
    metrics = evaluate(p, p.ema.module, "test", "_ema") if p.ema is not None else {}
    if p.cfg.checkpoint.keep == "last" or p.best.weights is None:  # no epoch had a finite metric: only the last
        return {**metrics, **evaluate(p, p.model, "test"), "test/epoch": epoch}
    if p.cfg.checkpoint.keep == "both":
        metrics.update({f"{k}_last": v for k, v in evaluate(p, p.model, "test").items()})
    last = {k: v.detach().clone() for k, v in p.model.state_dict().items()}
    p.model.load_state_dict(p.best.weights)
    metrics.update(evaluate(p, p.model, "test"))
    p.model.load_state_dict(last)
    return {**metrics, "test/epoch": p.best.epoch}


def _extras(p: Parts) -> dict[str, Any]:
    extra: dict[str, Any] = {
        "monitor": p.monitors.state_dict(), "best": p.best.state_dict(),
        "weighting": {k: v.detach().cpu().clone() for k, v in p.weighting.state_dict().items()},  # fixed: {}
        model_spec.KEY: model_spec.spec(p.cfg, p.data),  # the model rebuilt without the data (the study's best)
    }
    if p.ema is not None:
        extra["ema"] = {k: v.detach().cpu().clone() for k, v in p.ema.state_dict().items()}
    return extra


def _restore_extras(p: Parts, state: dict[str, Any]) -> None:
    p.monitors.load_state_dict(state["monitor"])
    if state.get("best") is not None:
        p.best.load_state_dict(state["best"])
    if p.ema is not None and "ema" in state:
        p.ema.load_state_dict(state["ema"])
    if "weighting" in state:  # fixed weighting's checkpoints from before it was a (stateless) module have none
        p.weighting.load_state_dict(state["weighting"])


def _stopped(p: Parts, stop: StopTraining, epoch: int, step: int) -> dict[str, Any]:
    """The report of an epoch cut short (diverged or out of memory): its validation, if it can still run."""
    metrics: dict[str, Any] = {"epoch": epoch + 1, "step": step, f"{p.split}/{p.task.lead.name}": math.nan}
    if stop.reason != "oom":
        metrics.update(distributed.from_rank0(_evaluate_epoch(p)))
    return {**metrics, STOP_REASON: stop.reason, STOP_DETAIL: stop.detail}


def run(cfg: TrainConfig, sink: Sink) -> dict[str, Any]:
    """Train `cfg` for its epochs (continuing from the sink's checkpoint, if any); returns the last report.

    A monitor's stop ends the run normally, its reason in the last report; out of memory may retry once with half
    the batch and twice the accumulation (`monitor.oom_retry`).
    """
    try:
        return _run(cfg, sink)
    except Exception as error:  # noqa: BLE001 - only out-of-memory is handled; anything else propagates
        retry = oom_retry_config(cfg) if is_oom(error) else None
        if retry is None:
            raise
    # Out of the except block: the error's traceback held the first attempt's frames (model, optimizer, data on
    # the device). It is gone now, but frames and errors form cycles: collect them before the retry allocates.
    release_memory()
    return _run(retry, _Announcing(sink, _changed(cfg, retry)))


def _changed(before: TrainConfig, after: TrainConfig) -> dict[str, Any]:
    old, new = flatten(before), flatten(after)
    return {k: v for k, v in new.items() if old.get(k) != v}


class _Announcing:
    """`sink`, whose next report also says which config values changed (CONFIG_CHANGE)."""

    def __init__(self, sink: Sink, changed: dict[str, Any]) -> None:
        self._sink, self._changed = sink, changed

    def restore(self) -> dict[str, Any] | None:
        return self._sink.restore()

    def report(self, metrics: dict[str, Any], state: dict[str, Any] | None) -> None:
        if self._changed:
            metrics = {**metrics, CONFIG_CHANGE: json.dumps(self._changed)}
            self._changed = {}
        self._sink.report(metrics, state)


def release_memory() -> None:
    """Free what nothing references any more, and hand the CUDA allocator's cached blocks back to the device."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _run(cfg: TrainConfig, sink: Sink) -> dict[str, Any]:
    p = build_parts(cfg)
    cfg = p.cfg  # with its 'auto' values resolved
    start_epoch, step, history = 0, 0, []
    state = sink.restore()
    init_text = None
    if state is not None:
        checkpoint.restore(state, p.model, p.optimizer, p.precision.scaler)
        _restore_extras(p, state)
        start_epoch, step, history = state["epoch"], state["step"], state["history"]
    else:
        report = apply_init(cfg.init, p.model, p.optimizer, p.ema)  # never again on a resumed run
        init_text = report.as_text() if report is not None else None
    if state is not None and history and (start_epoch >= cfg.epochs or state.get("stop")):
        # Nothing left to train (Ctrl-C fell between the final checkpoint and its report). The trainer only
        # reports: the tracker reads how the run ended from the checkpoint's history (checkpoint.HISTORY_FILE).
        p.ses.close()
        last = dict(history[-1])
        if state.get("stop"):
            last[STOP_REASON], last[STOP_DETAIL] = state["stop"]
        return last
    metrics: dict[str, Any] = {}
    epoch = start_epoch
    steady = SteadyMeans(state.get("steady") if state is not None else None)  # this run's first epoch: warm-up
    try:
        for epoch in range(start_epoch, cfg.epochs):
            reset_peak_memory(p.device)
            meter = ProcessMeter()
            t0 = time.perf_counter()
            train_metrics, step, samples = train_one_epoch(p, epoch, step)
            train_s = time.perf_counter() - t0
            metrics = {**train_metrics, **_evaluate_epoch(p, epoch + 1)}
            metrics.update({
                "epoch": epoch + 1,  # epochs completed: ASHA's time axis, MLflow's step
                "step": step,
                # robustness is timed on its own (sys/rob_eval_s): epoch times stay comparable across epochs
                "sys/epoch_s": time.perf_counter() - t0 - metrics.get("sys/rob_eval_s", 0.0),
                "sys/samples_per_s": samples / train_s,
                "sys/peak_mem_mb": peak_memory_mb(p.device),
                **meter.read(p.device),
            })
            metrics = distributed.from_rank0(metrics)  # several workers: one report, so every rank decides alike
            metrics.update(steady.add(metrics))
            extra, stop = p.monitors.check_epoch(epoch + 1, metrics, p.model)
            metrics.update(extra)
            p.best.update(epoch + 1, metrics, p.model)
            if cfg.eval.test == "end" and (stop is not None or epoch + 1 == cfg.epochs):
                metrics.update(distributed.from_rank0(_final_test(p, epoch + 1)))
            history.append(dict(metrics))
            stopped = (stop.reason, stop.detail) if stop is not None else None  # a resume must not train past it
            state = checkpoint.capture(p.model, p.optimizer, p.precision.scaler, epoch=epoch + 1, step=step,
                                       history=history,
                                       extra={**_extras(p), "stop": stopped, "steady": steady.state_dict()})
            report = dict(metrics)
            if init_text is not None:
                report[INIT_REPORT], init_text = init_text, None
            if stop is not None:
                report.update({STOP_REASON: stop.reason, STOP_DETAIL: stop.detail})
            sink.report(report, state)
            if stop is not None:
                return report
    except StopTraining as stop:  # diverged mid-epoch
        metrics = _stopped(p, stop, epoch, step)
        sink.report(metrics, None)
        return metrics
    except Exception as error:  # noqa: BLE001
        if not is_oom(error) or cfg.monitor.oom_retry:
            raise
        metrics = _stopped(p, oom_stop(cfg.data.batch_size, peak_memory_mb(p.device), epoch=epoch + 1), epoch, step)
        sink.report(metrics, None)
        return metrics
    finally:
        p.ses.close()
    return metrics
