"""The Tune adapter hands the tracker what the trainer reported, without Tune's bookkeeping."""

from __future__ import annotations

from studies.tune import trainer_result


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
