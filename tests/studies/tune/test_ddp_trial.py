"""`--workers 2`: a trial is a Ray Train worker group of 2 DDP workers (gloo on CPU), rank 0 checkpoints into the
study's storage, every epoch reaches MLflow once (slow: ~45 s on 2 cores). The DDP equivalence itself (2 x B/2 =
1 x B) is tested without Ray in tests/trainables/test_distributed.py."""

from __future__ import annotations

import pytest

from tests.studies.conftest import cli, store, study_runs


@pytest.mark.slow
def test_a_two_worker_trial_runs_checkpoints_and_logs_each_epoch_once(tmp_path):
    result = cli(["lr_warmup_dropout", "--num-samples", "1", "--workers", "2", "--set", "epochs=2",
                  "--set", "data.limit_train=512"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    client = store(tmp_path)
    _, trials = study_runs(client, "lr_warmup_dropout")
    assert len(trials) == 1 and trials[0].data.tags["hpstudy.status"] == "completed"
    assert [m.step for m in client.get_metric_history(trials[0].info.run_id, "val/acc")] == [1, 2]
    storage = tmp_path / "hpstudy_runs" / "ray" / "lr_warmup_dropout"
    assert list(storage.glob("train_*/checkpoint_*")), "rank 0's checkpoint is in the Train run's storage"


def test_bad_workers_is_one_line_and_exit_2(cli_here):
    result = cli_here(["lr_warmup_dropout", "--workers", "0"])
    assert result.returncode == 2 and result.stderr.strip() == "error: --workers 0: expected an integer >= 1"
