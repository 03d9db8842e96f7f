"""The Tune adapter hands the tracker what the trainer reported, without Tune's bookkeeping."""

from __future__ import annotations

from studies.tune.tuner import trainer_result


def test_tune_bookkeeping_is_stripped_and_every_trainer_key_kept():
    trainer = {"epoch": 3, "step": 90, "val/acc": 0.91, "rob/acc/fog": 0.5, "new/metric": 2.0,
               "stop/reason": "collapsed"}
    tune_added = {
        "training_iteration": 3, "time_this_iter_s": 1.2, "time_total_s": 4.0, "timestamp": 1_700_000_000,
        "date": "2026-11-21_10-00-00", "pid": 4242, "hostname": "node", "node_ip": "10.0.0.1",
        "time_since_restore": 4.0, "iterations_since_restore": 3, "done": False, "trial_id": "abc_00001",
        "experiment_id": "e1", "config": {"optim.lr": 0.1}, "config/optim.lr": 0.1, "checkpoint_dir_name": "cp",
    }
    assert trainer_result({**trainer, **tune_added}) == trainer


def test_the_root_cause_comes_out_of_rays_wrappers():
    from ray.exceptions import RayTaskError
    from ray.train import WorkerGroupError

    from studies.tune.tuner import error_reason
    from trainables.data import DataError

    inner = DataError("cifar10: malformed CIFAR-10 file /data/cifar-10-batches-py/data_batch_2: truncated")
    group = WorkerGroupError("Rank 0: ...\nTraceback ...", {0: inner})
    wrapped = RayTaskError("ImplicitFunc.train", "Traceback (most recent call last): ...", group)
    assert error_reason(wrapped) == f"DataError: {inner}"
    assert error_reason(RuntimeError("two\nlines")) == "RuntimeError: two"
    assert error_reason(None) == "error (Ray recorded none)"


def test_run_once_uses_a_process_that_exits_and_reraises_the_root_cause(shared_ray):
    """What the LR range test step runs in: memory it trained with (a GPU's) goes back when the process exits."""
    import os
    import time

    import pytest

    from studies.tune.tuner import run_once

    pid = run_once(os.getpid, cpus=1, gpus=0)
    assert pid != os.getpid()
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(pid), "the task's worker process exits (max_calls=1)"
    from trainables.config import TrainConfig
    from trainables.config.overrides import ConfigError, apply_overrides

    with pytest.raises(ConfigError, match="unknown config key 'optim.lrr'"):
        run_once(apply_overrides, TrainConfig(), {"optim.lrr": 0.1}, cpus=1, gpus=0)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return "zombie" not in f.read()
    except FileNotFoundError:
        return False
