"""The issue-3 switches as the loop uses them: EMA, mixing, labelled stops, OOM, loss weighting, warm start."""

from __future__ import annotations

import json
import weakref

import pytest
import torch

from trainables import loop, step
from trainables.checkpointing import checkpoint
from trainables.config import TrainConfig
from trainables.config.overrides import apply_overrides

TINY = {"data.name": "digits", "data.limit_train": 512, "num_threads": 1, "epochs": 2}


class Keep:
    def __init__(self, state=None):
        self.state, self.reports, self.states = state, [], []

    def restore(self):
        return self.state

    def report(self, metrics, state):
        self.reports.append(metrics)
        self.states.append(state)


def _run(**overrides) -> Keep:
    sink = Keep()
    loop.run(apply_overrides(TrainConfig(), {**TINY, **overrides}), sink)
    return sink


def test_ema_weights_are_evaluated_and_checkpointed():
    sink = _run(**{"ema.enabled": True, "ema.decay": 0.9})
    assert {"val/acc_ema", "val/loss_ema", "val/acc"} <= set(sink.reports[-1])
    assert "ema" in sink.states[-1] and any(k.endswith("weight") for k in sink.states[-1]["ema"])
    resumed = Keep(state=sink.states[0])
    loop.run(apply_overrides(TrainConfig(), {**TINY, "ema.enabled": True, "ema.decay": 0.9}), resumed)
    assert resumed.reports[0]["val/acc_ema"] == pytest.approx(sink.reports[1]["val/acc_ema"], abs=1e-6)


def test_mixup_trains_on_soft_targets():
    sink = _run(**{"recipe.mixup_alpha": 0.4, "recipe.label_smoothing": 0.1, "data.batch_size": 64})
    assert sink.reports[-1]["epoch"] == 2 and sink.reports[-1]["train/loss"] > 0


def test_patience_stops_with_a_labelled_reason():
    sink = _run(**{"epochs": 6, "optim.lr": 1e-6, "monitor.patience": 1, "monitor.collapse_epochs": 0})
    last = sink.reports[-1]
    assert last[loop.STOP_REASON] == "early_stopped" and "no val/acc gain" in last[loop.STOP_DETAIL]
    assert last["epoch"] < 6 and sink.states[-1] is not None  # the stopping epoch is reported and checkpointed


def test_divergence_mid_epoch_is_reported_with_the_step(monkeypatch):
    original = step.train_one_epoch

    def poisoned(p, epoch, first_step):
        if epoch == 1:
            with torch.no_grad():
                next(p.model.parameters()).fill_(float("nan"))
        return original(p, epoch, first_step)

    monkeypatch.setattr(loop, "train_one_epoch", poisoned)
    sink = _run(epochs=3)
    last = sink.reports[-1]
    assert last[loop.STOP_REASON] == "diverged" and "step" in last[loop.STOP_DETAIL]
    assert last["epoch"] == 2 and sink.states[-1] is None  # nothing worth resuming from


def test_out_of_memory_names_the_batch_size(monkeypatch):
    def oom(p, epoch, first_step):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(loop, "train_one_epoch", oom)
    last = _run().reports[-1]
    assert last[loop.STOP_REASON] == "oom" and "batch size 128" in last[loop.STOP_DETAIL]


def test_out_of_memory_retries_with_half_the_batch(monkeypatch):
    original, seen = step.train_one_epoch, []

    def oom_once(p, epoch, first_step):
        seen.append((p.cfg.data.batch_size, p.cfg.accum_steps))
        if len(seen) == 1:
            raise torch.OutOfMemoryError("out of memory")
        return original(p, epoch, first_step)

    monkeypatch.setattr(loop, "train_one_epoch", oom_once)
    sink = _run(**{"monitor.oom_retry": True})
    assert seen[:2] == [(128, 1), (64, 2)]
    assert sink.reports[-1]["epoch"] == 2 and loop.STOP_REASON not in sink.reports[-1]
    # the retry's first report says what it changed, so the trial's logged config is the one that trained
    assert json.loads(sink.reports[0][loop.CONFIG_CHANGE]) == {
        "data.batch_size": 64, "accum_steps": 2, "monitor.oom_retry": False}
    assert all(loop.CONFIG_CHANGE not in r for r in sink.reports[1:])


def test_out_of_memory_retry_frees_the_first_attempt_before_building_its_own(monkeypatch):
    """Seed 001 bug 2: a retry started inside `except` kept the failed attempt's model, optimizer and data."""
    build, original, first, alive_at_retry = loop.build_parts, step.train_one_epoch, [], []

    def tracked_build(cfg):
        if first:  # the retry: nothing of the first attempt may still be alive
            alive_at_retry.extend(name for name, ref in first if ref() is not None)
        p = build(cfg)
        if not first:
            first.extend([("model", weakref.ref(p.model)), ("optimizer", weakref.ref(p.optimizer)),
                          ("images on the device", weakref.ref(p.data.source.images))])
        return p

    def oom_once(p, epoch, first_step):
        if p.cfg.data.batch_size == 128:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return original(p, epoch, first_step)

    monkeypatch.setattr(loop, "build_parts", tracked_build)
    monkeypatch.setattr(loop, "train_one_epoch", oom_once)
    sink = _run(**{"monitor.oom_retry": True})
    assert sink.reports[-1]["epoch"] == 2 and len(first) == 3
    assert alive_at_retry == [], f"still alive when the retry built its parts: {alive_at_retry}"


def test_uncertainty_weighting_logs_bounded_weights():
    sink = _run(**{"ses.enabled": True, "loss_weighting": "uncertainty", "log_var_bounds": (-1.0, 1.0)})
    last = sink.reports[-1]
    for name in ("task", "ses"):
        assert -1.0 <= last[f"loss_log_var/{name}"] <= 1.0
        assert torch.exp(torch.tensor(-1.0)) <= last[f"loss_weight/{name}"] <= torch.exp(torch.tensor(1.0))  # exp(-s)
    assert "weighting" in sink.states[-1]


def test_warm_start_reports_its_coverage_once(tmp_path):
    first = _run(epochs=1)
    checkpoint.save(first.states[-1], tmp_path)
    sink = _run(**{"init.checkpoint": str(tmp_path), "init.mode": "warm"})
    assert loop.INIT_REPORT in sink.reports[0] and loop.INIT_REPORT not in sink.reports[1]
    assert "copied" in sink.reports[0][loop.INIT_REPORT].lower()


def test_warm_start_onto_a_different_head_fails_unless_partial(tmp_path):
    first = _run(epochs=1)
    state = first.states[-1]
    state["model"] = {k: v for k, v in state["model"].items() if not k.startswith("fc.")}  # seed 004's lost head
    checkpoint.save(state, tmp_path)
    with pytest.raises(ValueError, match="fc"):
        _run(**{"init.checkpoint": str(tmp_path), "init.mode": "warm"})
    assert _run(**{"init.checkpoint": str(tmp_path), "init.mode": "warm", "init.allow_partial": True}).reports


def test_robustness_is_evaluated_when_due_and_timed_on_its_own():
    sink = _run(**{"epochs": 3, "rob.enabled": True, "rob.every": 2, "rob.max_images": 64,
                   "rob.corruptions": ("gaussian_noise", "contrast"), "rob.severities": (1, 5)})
    due = [("rob/acc" in r) for r in sink.reports]
    assert due == [False, True, True]  # every 2nd epoch and the last
    last = sink.reports[-1]
    assert set(k for k in last if k.startswith("rob/acc/")) == {"rob/acc/gaussian_noise", "rob/acc/contrast"}
    assert last["rob/acc"] == pytest.approx((last["rob/acc/gaussian_noise"] + last["rob/acc/contrast"]) / 2)
    assert last["sys/rob_eval_s"] > 0


def test_randaugment_runs_on_the_training_batches(monkeypatch):
    from trainables import parts
    from trainables.recipe import RandAugmentBatch

    calls = []

    class Counting(RandAugmentBatch):
        def __call__(self, images, generator=None):
            calls.append(images.dtype)
            return super().__call__(images, generator)

    monkeypatch.setattr(parts, "RandAugmentBatch", Counting)
    _run(**{"recipe.randaugment_n": 2, "recipe.randaugment_m": 9, "epochs": 1})
    assert calls and set(calls) == {torch.uint8}  # on uint8 pixels, before normalization
