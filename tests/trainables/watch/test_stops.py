"""Stop reasons survive pickling (Ray ships them); the OOM stop names batch size and peak; a retry halves the batch."""

import pickle

import pytest
import torch

from trainables.config import TrainConfig
from trainables.config.overrides import apply_overrides, flatten
from trainables.watch.stops import RETRY_CHANGES, StopTraining, is_oom, oom_retry_config, oom_stop


def test_stop_keeps_its_fields_through_pickle():
    stop = pickle.loads(pickle.dumps(StopTraining("diverged", "non-finite loss (nan) at step 123", step=123, epoch=2)))
    assert (stop.reason, stop.step, stop.epoch) == ("diverged", 123, 2)
    assert str(stop) == "diverged: non-finite loss (nan) at step 123" == f"{stop.reason}: {stop.detail}"


def test_unknown_reason_is_refused_with_the_valid_ones():
    with pytest.raises(ValueError, match="'exploded'.*diverged, collapsed, memory_growth, oom, early_stopped"):
        StopTraining("exploded", "x")


def test_oom_stop_names_batch_size_and_peak_memory():
    assert oom_stop(256, 15565).detail == "out of memory at batch size 256 (peak 15.2 GB)"
    stop = oom_stop(32, 812.4, step=7, epoch=1)
    assert (stop.reason, stop.step, stop.epoch) == ("oom", 7, 1)
    assert stop.detail == "out of memory at batch size 32 (peak 812 MB)"


def test_is_oom_knows_accelerator_and_cpu_allocator_errors():
    assert is_oom(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    with pytest.raises(RuntimeError) as cpu_error:
        torch.empty(2**45)  # 128 TiB
    assert is_oom(cpu_error.value)
    assert not is_oom(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))


def test_oom_retry_halves_the_batch_doubles_accumulation_once():
    cfg = apply_overrides(TrainConfig(), {"data.batch_size": 256, "accum_steps": 2, "monitor.oom_retry": True})
    retry = oom_retry_config(cfg)
    assert (retry.data.batch_size, retry.accum_steps, retry.monitor.oom_retry) == (128, 4, False)
    assert oom_retry_config(retry) is None  # tried once
    assert oom_retry_config(TrainConfig()) is None  # oom_retry off by default
    before, after = flatten(cfg), flatten(retry)
    assert {k for k in after if after[k] != before[k]} == set(RETRY_CHANGES)  # what the tracker holds back
