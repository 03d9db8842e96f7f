"""A study whose trials failed exits 3 and closes with one line per distinct error; MLflow's parent says FAILED
(slow: a Ray Train start per trial)."""

from __future__ import annotations

import pytest

from tests.studies.conftest import cli, store, study_runs
from trainables.data.synthetic import write_dataset


# Exit 3, the closing lines and the statuses run in seconds in test_tuner_grid.py on a closed-form trial, and the
# root cause out of Ray Train's wrappers in test_tune_adapter.py; this one adds a real data error in a Train worker.
@pytest.mark.slow
def test_a_corrupted_data_file_fails_every_trial_loudly(tmp_path):
    batch = write_dataset("cifar10", tmp_path / "data") / "cifar-10-batches-py" / "data_batch_2"
    batch.write_bytes(batch.read_bytes()[:1000])  # truncated, as by an interrupted copy
    args = ["lr_warmup_dropout", "--num-samples", "1", "--set", "epochs=1", "--set", "data.name=cifar10",
            "--set", "data.root=data"]
    result = cli(args, tmp_path)
    assert result.returncode == 3, result.stderr[-3000:]
    closing = result.stderr[result.stderr.index("1 of 1 trials failed:"):].splitlines()
    # one line per distinct error (grouping: tests/studies/cli/test_exit_status.py), then where Ray's tracebacks went
    assert len(closing) == 3 and closing[2].startswith("tracebacks: ") and closing[2].endswith(".log"), closing
    assert closing[1].startswith("  DataError: cifar10: malformed CIFAR-10 file ") and str(batch) in closing[1]
    parents, trials = study_runs(store(tmp_path), "lr_warmup_dropout")
    assert parents[0].info.status == "FAILED" and parents[0].data.tags["hpstudy.status"] == "failed"
    assert parents[0].data.tags["hpstudy.failed_trials"] == "1 of 1"
    assert {t.data.tags["hpstudy.status"] for t in trials} == {"failed"}
    assert all(t.data.tags["hpstudy.stop_reason"].startswith("DataError: ") for t in trials)
