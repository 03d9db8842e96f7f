"""The training loop through an in-memory sink: metrics, determinism, SES hooks, and crash-and-resume."""

import itertools
import types

import pytest
import torch

from trainables import loop
from trainables.checkpointing import checkpoint
from trainables.config import TrainConfig
from trainables.config.overrides import apply_overrides
from trainables.models.by_name import SmallCNN

TINY = {"data.name": "digits", "data.limit_train": 512, "num_threads": 1, "epochs": 2}  # 4 steps of 128 per epoch
SES_LAYERS = list(SmallCNN.hook_points)  # what `ses.layers=all` hooks on small_cnn


class Crash(Exception):
    pass


class MemorySink:
    """Keeps every report; restores `state`; optionally saves to `crash_dir` and raises after epoch `crash_after`."""

    def __init__(self, state=None, crash_after=None, crash_dir=None):
        self.state, self.crash_after, self.crash_dir = state, crash_after, crash_dir
        self.metrics, self.states = [], []

    def restore(self):
        return self.state

    def report(self, metrics, state):
        self.metrics.append(dict(metrics))
        self.states.append(state)
        if metrics["epoch"] == self.crash_after:
            checkpoint.save(state, self.crash_dir)
            raise Crash


@pytest.fixture(autouse=True)
def _keep_thread_count():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def tiny(**overrides) -> TrainConfig:
    return apply_overrides(TrainConfig(), {**TINY, **overrides})


def run(cfg, **sink_kw) -> MemorySink:
    sink = MemorySink(**sink_kw)
    loop.run(cfg, sink)
    return sink


def _learned(metrics: dict) -> dict:
    """Everything but the timing and memory figures."""
    return {k: v for k, v in metrics.items() if not k.startswith("sys/")}


def test_reports_every_epoch_with_namespaced_metrics():
    sink = run(tiny(epochs=3))
    assert [m["epoch"] for m in sink.metrics] == [1, 2, 3]
    assert [m["step"] for m in sink.metrics] == [4, 8, 12]
    for m in sink.metrics:
        assert {"train/loss", "train/acc", "val/loss", "val/acc", "lr", "epoch",
                "sys/epoch_s", "sys/samples_per_s", "sys/peak_mem_mb"} <= set(m)
        assert not any(k.startswith("ses/") for k in m)
        assert 0 <= m["train/acc"] <= 1 and 0 <= m["val/acc"] <= 1
        assert m["sys/epoch_s"] > 0 and m["sys/samples_per_s"] > 0 and m["sys/peak_mem_mb"] > 0
        # the process's own use (system metrics): CPU cores over the epoch, its resident memory; no GPU here
        assert 0 < m["sys/cpu_cores"] < 64 and 10 < m["sys/rss_mb"] < m["sys/peak_mem_mb"] + 1
        assert "sys/gpu_util_pct" not in m and "sys/gpu_mem_reserved_mb" not in m
    assert sink.metrics[-1]["val/acc_best"] == max(m["val/acc"] for m in sink.metrics)
    assert [s["epoch"] for s in sink.states] == [1, 2, 3]


def test_same_seed_same_metrics_other_seed_differs():
    first, again, other = (run(tiny(seed=s)).metrics for s in (3, 3, 4))
    assert [_learned(m) for m in first] == [_learned(m) for m in again]
    assert first[-1]["train/loss"] != other[-1]["train/loss"]
    assert first[-1]["val/loss"] != other[-1]["val/loss"]


def test_reported_lr_follows_the_schedule():
    sink = run(tiny(**{"sched.name": "constant", "optim.lr": 0.03}))
    assert [m["lr"] for m in sink.metrics] == [0.03, 0.03]


def test_samples_per_s_counts_trained_samples(monkeypatch):
    clock = itertools.count()  # every perf_counter() call advances one second: train_s == 1
    monkeypatch.setattr(loop, "time", types.SimpleNamespace(perf_counter=lambda: float(next(clock))))
    assert run(tiny(epochs=1)).metrics[0]["sys/samples_per_s"] == 512


def test_samples_per_s_counts_a_short_batch(monkeypatch):
    clock = itertools.count()
    monkeypatch.setattr(loop, "time", types.SimpleNamespace(perf_counter=lambda: float(next(clock))))
    assert run(tiny(epochs=1, **{"data.limit_train": 64})).metrics[0]["sys/samples_per_s"] == 64


def test_ses_metrics_per_hooked_layer():
    sink = run(tiny(**{"ses.enabled": True, "data.limit_train": 256}))
    for m in sink.metrics:
        assert {"ses/penalty", "ses/beta", *(f"ses/entropy/{name}" for name in SES_LAYERS)} <= set(m)
        assert m["ses/penalty"] >= 0
        assert m["ses/beta"] == pytest.approx(0.7)


def _capture_parts(monkeypatch) -> list:
    built = []

    def build_parts(cfg):
        built.append(real(cfg))
        return built[-1]

    real = loop.build_parts
    monkeypatch.setattr(loop, "build_parts", build_parts)
    return built


def _hooked_modules(model) -> list[str]:
    return [name for name, module in model.named_modules() if module._forward_hooks]


@pytest.mark.parametrize("crash", [False, True])
def test_ses_hooks_are_removed_when_run_ends(monkeypatch, tmp_path, crash):
    built = _capture_parts(monkeypatch)
    cfg = tiny(epochs=1, **{"ses.enabled": True, "data.limit_train": 256})
    sink = MemorySink(crash_after=1 if crash else None, crash_dir=tmp_path)
    seen = []
    report = sink.report
    sink.report = lambda metrics, state: (seen.append(_hooked_modules(built[0].model)), report(metrics, state))
    if crash:
        with pytest.raises(Crash):
            loop.run(cfg, sink)
    else:
        loop.run(cfg, sink)
    assert SES_LAYERS and seen == [SES_LAYERS]  # hooked while training ...
    assert _hooked_modules(built[0].model) == []  # ... and not after, even when the sink raised


@pytest.mark.parametrize("extra", [{}, {"ses.enabled": True}, {"optim.name": "adamw", "optim.lr": 1e-3,
                                                                "sched.warmup_epochs": 1.0}])
def test_resume_after_crash_matches_uninterrupted_run(tmp_path, extra):
    cfg = tiny(epochs=3, **extra)
    whole = run(cfg)

    with pytest.raises(Crash):
        run(cfg, crash_after=2, crash_dir=tmp_path)
    resumed = run(cfg, state=checkpoint.load(tmp_path))

    assert [m["epoch"] for m in resumed.metrics] == [3]
    want, got = _learned(whole.metrics[2]), _learned(resumed.metrics[0])
    assert got.keys() == want.keys()
    assert got == pytest.approx(want, rel=0, abs=1e-6)
    # The checkpoint holds every epoch's metrics, readable without its weights: what the tracker backfills from
    # when an epoch was checkpointed but never reported (the trainer itself re-sends nothing).
    saved = checkpoint.load_history(tmp_path)
    assert saved["epoch"] == 2 and [h["epoch"] for h in saved["history"]] == [1, 2]
    assert [_learned(h) for h in saved["history"]] == [_learned(m) for m in whole.metrics[:2]]


def test_a_fixed_weighting_checkpoint_without_weighting_state_still_resumes():
    # Fixed weighting saved no "weighting" entry before it was a null object with an (empty) state.
    cfg = tiny(epochs=3)
    whole = run(cfg)
    assert whole.states[1]["weighting"] == {}
    old = {k: v for k, v in whole.states[1].items() if k != "weighting"}
    resumed = run(cfg, state=old)
    assert _learned(resumed.metrics[0]) == pytest.approx(_learned(whole.metrics[2]), rel=0, abs=1e-6)


def test_resume_from_finished_run_trains_and_reports_nothing():
    # Ctrl-C can land after the last epoch's checkpoint but before its report reached Tune; the resumed trial has
    # nothing left to train, and the tracker learns how it ended from the checkpoint's history.
    cfg = tiny(epochs=2)
    whole = run(cfg)
    resumed = MemorySink(state=whole.states[-1])
    last = loop.run(cfg, resumed)
    assert resumed.metrics == [] and resumed.states == []  # no training, no report, no new checkpoint
    assert _learned(last) == _learned(whole.metrics[-1])


def test_resume_after_a_monitor_stop_does_not_train_on():
    cfg = tiny(epochs=5, **{"monitor.patience": 1, "monitor.min_delta": 1.0})  # no epoch can gain 1.0 accuracy
    whole = run(cfg)
    stopped = whole.metrics[-1]
    assert stopped[loop.STOP_REASON] == "early_stopped" and stopped["epoch"] == 2
    resumed = MemorySink(state=whole.states[-1])
    again = loop.run(cfg, resumed)
    assert resumed.metrics == [] and resumed.states == []
    assert again["epoch"] == 2 and again[loop.STOP_REASON] == "early_stopped"
    assert again[loop.STOP_DETAIL] == stopped[loop.STOP_DETAIL]


def test_resume_from_a_state_kept_in_memory():
    cfg = tiny(epochs=3)
    whole = run(cfg)
    resumed = run(cfg, state=whole.states[1])  # the epoch-2 state, held while epoch 3 trained
    assert _learned(resumed.metrics[0]) == pytest.approx(_learned(whole.metrics[2]), rel=0, abs=1e-6)


class _WarmUpClock:
    """loop's clock: each epoch trains for 2 + its index fake seconds, plus 8 in a run's first epoch (warm-up)."""

    def __init__(self, monkeypatch):
        self.now, self.warm = 0.0, True
        train = loop.train_one_epoch

        def epoch(p, index, step):
            out = train(p, index, step)
            self.now += 2.0 + index + 8.0 * self.warm
            self.warm = False
            return out

        monkeypatch.setattr(loop, "train_one_epoch", epoch)
        monkeypatch.setattr(loop, "time", types.SimpleNamespace(perf_counter=lambda: self.now))


def test_each_runs_first_epoch_is_warm_up_left_out_of_the_steady_epoch_time(monkeypatch):
    clock = _WarmUpClock(monkeypatch)
    cfg = tiny(epochs=3, **{"data.limit_train": 256})
    whole = run(cfg)
    assert [m["sys/epoch_s"] for m in whole.metrics] == [10, 3, 4]  # each epoch as measured
    assert [m["sys/epoch_s_steady"] for m in whole.metrics] == [10, 3, 3.5]  # the warm-up alone until others
    assert whole.metrics[-1]["sys/samples_per_s_steady"] == pytest.approx((256 / 3 + 256 / 4) / 2)
    clock.warm = True  # a resumed trial's process warms up again
    resumed = run(cfg, state=whole.states[1])
    assert [m["sys/epoch_s"] for m in resumed.metrics] == [12]
    assert resumed.metrics[0]["sys/epoch_s_steady"] == 3  # epoch 2's: epochs 1 and 3 warmed up
