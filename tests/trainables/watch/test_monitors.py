"""Each monitor provoked on purpose: NaN losses and weights, collapsing accuracy, a hook that leaks, patience."""

import concurrent.futures
import io
import math
import multiprocessing

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from trainables.config import DataConfig, ModelConfig, MonitorConfig
from trainables.data import build_data
from trainables.models.by_name import build_model
from trainables.watch.meters import peak_memory_mb, reset_peak_memory
from trainables.watch.monitors import Monitors, StopTraining

CPU = torch.device("cpu")
OFF = MonitorConfig(collapse_epochs=0)  # every check off but the always-on divergence check


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def feed(monitors, accs, *, train=None, mem=None, model=None, first_epoch=1):
    """check_epoch over a val/acc sequence -> (extras per epoch, the first stop or None)."""
    model = model or nn.Linear(2, 2)
    extras = []
    for i, acc in enumerate(accs):
        metrics = {"val/acc": acc, "train/acc": train[i] if train else acc}
        if mem is not None:
            metrics["sys/peak_mem_mb"] = mem[i]
        extra, stop = monitors.check_epoch(first_epoch + i, metrics, model)
        extras.append(extra)
        if stop is not None:
            return extras, stop
    return extras, None


# --- diverged -----------------------------------------------------------------------------------------------------

class NaNAfter(nn.Module):
    """A linear classifier whose forward emits NaN from its `k`-th call on (0-based)."""

    def __init__(self, k):
        super().__init__()
        self.fc, self.k, self.calls = nn.Linear(8, 3), k, 0

    def forward(self, x):
        out = self.fc(x)
        self.calls += 1
        return out * float("nan") if self.calls > self.k else out


def train_steps(monitors, model, steps, first_step=0):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    gen = torch.Generator().manual_seed(0)
    for step in range(first_step, first_step + steps):
        loss = F.cross_entropy(model(torch.randn(16, 8, generator=gen)), torch.randint(0, 3, (16,), generator=gen))
        opt.zero_grad()
        loss.backward()
        opt.step()
        monitors.check_step(step, loss)


def test_nan_loss_is_reported_at_its_step_when_flushed():
    monitors = Monitors(OFF, num_classes=3, check_every=25)
    train_steps(monitors, NaNAfter(k=7), steps=12, first_step=100)  # no read-back within 12 steps
    with pytest.raises(StopTraining) as stop:
        monitors.flush()
    assert (stop.value.reason, stop.value.step, stop.value.epoch) == ("diverged", 107, 1)
    assert stop.value.detail == "non-finite loss (nan) at step 107"


def test_nan_loss_is_noticed_within_check_every_steps():
    monitors = Monitors(OFF, num_classes=3, check_every=4)
    model = NaNAfter(k=5)
    with pytest.raises(StopTraining) as stop:
        train_steps(monitors, model, steps=20)
    assert stop.value.step == 5 and model.calls == 8  # the read-back after steps 4..7 found step 5


def test_finite_losses_never_stop():
    monitors = Monitors(OFF, num_classes=3, check_every=3)
    train_steps(monitors, NaNAfter(k=10**9), steps=10)
    monitors.flush()


def test_check_step_reads_the_device_only_every_check_every_steps():
    monitors = Monitors(OFF, num_classes=3, check_every=25)
    loss = torch.ones((), device="meta")  # a meta tensor cannot be read back: any per-step host sync would raise
    for step in range(24):
        monitors.check_step(step, loss)
    with pytest.raises((RuntimeError, NotImplementedError)):
        monitors.check_step(24, loss)  # the 25th step reads back


@pytest.mark.parametrize("value", [math.inf, math.nan])
def test_nonfinite_parameters_stop_from_check_epoch(value):
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    with torch.no_grad():
        model[2].weight[0, 0] = value
    model[1].running_var[1] = value
    extras, stop = feed(Monitors(OFF, num_classes=2), [0.7], model=model)
    assert extras == [{"val/acc_best": 0.7, "best_epoch": 1, "gap/train_val_acc": 0.0}]  # still reported
    assert (stop.reason, stop.epoch) == ("diverged", 1)
    assert stop.detail == "non-finite parameters after epoch 1: 1.running_var, 2.weight"  # state_dict order


def test_large_finite_parameters_are_not_divergence():
    model = nn.Linear(1000, 1000)
    with torch.no_grad():
        model.weight.fill_(1e30)  # the 2-norm would overflow float32; the values are finite
    assert feed(Monitors(OFF, num_classes=2), [0.7], model=model)[1] is None


def digits_run(lr_at_epoch, epochs, cfg, losses, seed=0):
    """small_cnn on 512 digits (4 steps of 128 an epoch), driven as the loop will drive the monitors."""
    torch.manual_seed(seed)
    data = build_data(DataConfig(name="digits", limit_train=512, augment=False), seed)
    model = build_model(ModelConfig(), num_classes=data.num_classes, in_chans=data.in_chans,
                        image_size=data.image_size)
    opt = torch.optim.SGD(model.parameters(), lr=0.0, momentum=0.9)
    monitors = Monitors(cfg, num_classes=data.num_classes)
    for epoch in range(1, epochs + 1):
        for group in opt.param_groups:
            group["lr"] = lr_at_epoch(epoch)
        model.train()
        correct = 0
        for x, y in data.train_batches(epoch):
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            monitors.check_step(len(losses), loss)
            losses.append(loss.item())
            correct += (logits.argmax(1) == y).sum().item()
        monitors.flush()
        model.eval()
        with torch.no_grad():
            val = sum((model(x).argmax(1) == y).sum().item() for x, y in data.val_batches()) / data.num_val
        _, stop = monitors.check_epoch(epoch, {"val/acc": val, "train/acc": correct / 512}, model)
        if stop is not None:
            raise stop


def test_absurd_learning_rate_diverges():
    losses = []
    with pytest.raises(StopTraining) as stop:
        digits_run(lambda epoch: 1e4, epochs=3, cfg=MonitorConfig(), losses=losses)
    stop = stop.value
    assert stop.reason == "diverged" and stop.epoch <= 2, stop  # lr 1e4 blows up; it is not mislabelled collapsed
    if stop.step is None:  # BN statistics overflow first, while the loss is still finite (seed 0 today)
        assert "running_var" in stop.detail and all(map(math.isfinite, losses))
    else:
        assert stop.step == next(i for i, loss in enumerate(losses) if not math.isfinite(loss))


# --- collapsed ----------------------------------------------------------------------------------------------------

def test_collapse_to_chance_after_learning():
    extras, stop = feed(Monitors(MonitorConfig(), num_classes=10), [0.3, 0.62, 0.5, 0.098, 0.1, 0.099, 0.6])
    assert (stop.reason, stop.epoch, len(extras)) == ("collapsed", 6, 6)
    assert stop.detail == "val/acc 0.099 <= chance 0.100 (+0.02) for 3 epochs (best 0.620 at epoch 2)"


def test_collapse_far_below_best():
    _, stop = feed(Monitors(MonitorConfig(collapse_ratio=0.5), num_classes=10), [0.8, 0.9, 0.4, 0.35, 0.3])
    assert (stop.reason, stop.epoch) == ("collapsed", 5)
    assert stop.detail == "val/acc 0.300 < 0.5 x best for 3 epochs (best 0.900 at epoch 2)"


def test_dips_that_recover_are_not_collapse():
    assert feed(Monitors(MonitorConfig(), num_classes=10), [0.6, 0.1, 0.1, 0.6, 0.2, 0.1, 0.65])[1] is None


def test_a_run_that_never_learns_is_stopped_after_a_grace_and_labelled_so():
    extras, stop = feed(Monitors(MonitorConfig(collapse_epochs=3), num_classes=10), [0.1, 0.09, 0.11, 0.1, 0.1, 0.9])
    assert (stop.reason, stop.epoch) == ("collapsed", 5)
    assert stop.detail.startswith("never above chance: val/acc <= 0.120 (chance 0.100 + 0.02) for all 5 epochs")
    assert feed(Monitors(MonitorConfig(), num_classes=10), [0.1, 0.1, 0.1, 0.1, 0.3, 0.5])[1] is None  # slow start


def test_collapse_epochs_zero_turns_collapse_off():
    assert feed(Monitors(OFF, num_classes=10), [0.9] + [0.0] * 10)[1] is None


def test_learning_rate_spike_collapses_a_real_run():
    with pytest.raises(StopTraining) as stop:
        digits_run(lambda epoch: 0.5 if epoch <= 2 else 30.0, epochs=6, cfg=MonitorConfig(), losses=[])  # finite
    assert (stop.value.reason, stop.value.epoch) == ("collapsed", 5), stop.value
    assert "for 3 epochs (best 0.7" in stop.value.detail and stop.value.detail.endswith("at epoch 2)")


# --- memory_growth ------------------------------------------------------------------------------------------------

def test_memory_growing_three_epochs_running():
    cfg = MonitorConfig(memory_growth_mb=100)
    _, stop = feed(Monitors(cfg, num_classes=10), [0.5] * 6, mem=[800, 812, 1100, 1380, 1650, 1900])
    assert (stop.reason, stop.epoch) == ("memory_growth", 5)
    assert stop.detail == "peak memory 812 -> 1650 MB over epochs 2-5 (+279 MB/epoch)"


def test_memory_that_steps_up_and_settles_is_not_growth():
    cfg = MonitorConfig(memory_growth_mb=100)
    assert feed(Monitors(cfg, num_classes=10), [0.5] * 7, mem=[100, 300, 500, 510, 700, 900, 905])[1] is None
    assert feed(Monitors(MonitorConfig(), num_classes=10), [0.5] * 5, mem=[1, 1e3, 1e4, 1e5, 1e6])[1] is None  # off


class Attention(nn.Module):
    """Single-head self-attention whose maps pass through `attn_drop`, where people hook to look at them."""

    def __init__(self, dim=16):
        super().__init__()
        self.qkv, self.attn_drop, self.head = nn.Linear(dim, 3 * dim), nn.Identity(), nn.Linear(dim, 4)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        attn = self.attn_drop((q @ k.transpose(-2, -1) / 4).softmax(-1))  # (B, N, N)
        return self.head((attn @ v).mean(1))


def attention_run(leak, epochs=6):
    """Train on random tokens, peak memory from the loop's own meter; -> (stop, kept maps, peaks)."""
    torch.set_num_threads(1)
    model, kept, peaks = Attention(), [], []
    if leak:  # the bug: keeping the maps without .detach() keeps each step's graph alive too
        model.attn_drop.register_forward_hook(lambda module, args, out: kept.append(out))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    monitors = Monitors(MonitorConfig(memory_growth_mb=8), num_classes=4)
    gen = torch.Generator().manual_seed(0)
    for epoch in range(1, epochs + 1):
        reset_peak_memory(CPU)  # as the loop does: each epoch's own peak
        for _ in range(8):  # 8 steps x 32 x 128 x 128 float32 maps = 16 MB kept per epoch
            loss = F.cross_entropy(model(torch.randn(32, 128, 16, generator=gen)), torch.randint(0, 4, (32,)))
            opt.zero_grad()
            loss.backward()
            opt.step()
        peaks.append(peak_memory_mb(CPU))
        _, stop = monitors.check_epoch(epoch, {"val/acc": 0.5, "train/acc": 0.5, "sys/peak_mem_mb": peaks[-1]}, model)
        if stop is not None:
            break
    return stop, len(kept), all(t.grad_fn is not None for t in kept), peaks


def in_fresh_processes(fn, calls: list[tuple]) -> list:
    """[fn(*args) for args in calls], each in its own freshly spawned interpreter, all at once. In this long-lived
    test process glibc has raised its mmap threshold after earlier large frees, so leaked tensors can refill
    already-resident heap without the RSS peak rising; one interpreter per call keeps the calls apart the same way."""
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(len(calls), mp_context=spawn, max_tasks_per_child=1) as pool:
        futures = [pool.submit(fn, *args) for args in calls]
        return [f.result(timeout=300) for f in futures]


def test_a_hook_that_keeps_attention_maps_with_their_graph_is_memory_growth():
    (stop, n_kept, with_graph, peaks), fixed = in_fresh_processes(attention_run, [(True,), (False,)])
    assert n_kept > 0 and with_graph
    assert stop is not None and stop.reason == "memory_growth", (stop, peaks)
    assert stop.epoch == 4 and "MB over epochs 1-4" in stop.detail

    stop, n_kept, _, peaks = fixed
    assert n_kept == 0 and stop is None, (stop, peaks)


# --- early_stopped ------------------------------------------------------------------------------------------------

def test_early_stopping_after_patience_epochs_without_gain():
    _, stop = feed(Monitors(MonitorConfig(patience=2), num_classes=10), [0.5, 0.6, 0.6, 0.59, 0.7])
    assert (stop.reason, stop.epoch) == ("early_stopped", 4)
    assert stop.detail == "no val/acc gain > 0 for 2 epochs (best 0.600 at epoch 2)"


def test_no_early_stop_while_improving_and_min_delta_counts():
    assert feed(Monitors(MonitorConfig(patience=2), num_classes=10), [0.3, 0.4, 0.5, 0.6, 0.7])[1] is None
    _, stop = feed(Monitors(MonitorConfig(patience=2, min_delta=0.05), num_classes=10), [0.5, 0.52, 0.54, 0.56])
    assert (stop.epoch, stop.detail) == (3, "no val/acc gain > 0.05 for 2 epochs (best 0.540 at epoch 3)")


# --- every epoch, and resuming ------------------------------------------------------------------------------------

def test_best_and_gap_are_logged_every_epoch():
    extras, _ = feed(Monitors(OFF, num_classes=10), [0.5, 0.7, 0.6], train=[0.6, 0.9, 0.95])
    assert extras == [
        {"val/acc_best": 0.5, "best_epoch": 1, "gap/train_val_acc": pytest.approx(0.1)},
        {"val/acc_best": 0.7, "best_epoch": 2, "gap/train_val_acc": pytest.approx(0.2)},
        {"val/acc_best": 0.7, "best_epoch": 2, "gap/train_val_acc": pytest.approx(0.35)},
    ]


@pytest.mark.parametrize("split", [1, 3, 4])
def test_a_resumed_trial_continues_its_counters(split):
    cfg = MonitorConfig(patience=4, memory_growth_mb=10)
    accs, mem = [0.5, 0.8, 0.7, 0.7, 0.75, 0.79, 0.6], [100, 100, 120, 140, 160, 170, 175]
    whole = feed(Monitors(cfg, num_classes=10), accs, mem=mem)

    first = Monitors(cfg, num_classes=10)
    head, _ = feed(first, accs[:split], mem=mem[:split])
    buffer = io.BytesIO()
    torch.save(first.state_dict(), buffer)  # as the checkpoint does
    resumed = Monitors(cfg, num_classes=10)
    resumed.load_state_dict(torch.load(io.BytesIO(buffer.getvalue()), weights_only=False))
    tail, stop = feed(resumed, accs[split:], mem=mem[split:], first_epoch=split + 1)

    assert head + tail == whole[0]
    assert (stop.reason, stop.epoch, stop.detail) == ("memory_growth", 5, whole[1].detail)


def test_unknown_state_keys_and_bad_settings_are_named():
    with pytest.raises(KeyError, match="bestt"):
        Monitors(OFF, num_classes=10).load_state_dict({"bestt": 0.5})
    with pytest.raises(ValueError, match="num_classes=1"):
        Monitors(OFF, num_classes=1)
