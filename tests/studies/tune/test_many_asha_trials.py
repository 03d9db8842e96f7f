"""20+ ASHA trials on 2 cores finish without stalling and leave no placement group reserved (slow: ~6 min)."""

from __future__ import annotations

import pytest

from tests.studies.conftest import cli, store, study_runs

TRIALS = 22


# ASHA's rungs and statuses run in seconds in test_tuner_search.py on a closed-form trial; this one is about Ray
# Train freeing a stopped trial's worker CPUs, which only real Train runs hold.
@pytest.mark.slow
def test_many_asha_trials_finish_and_free_their_resources(tmp_path):
    args = ["lr_warmup_dropout", "--num-samples", str(TRIALS), "--set", "data.limit_train=256", "--set", "epochs=3"]
    result = cli(args, tmp_path, timeout=1500)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "placement group" not in result.stderr, "trials stopped by ASHA must give their CPUs back"
    _, trials = study_runs(store(tmp_path), "lr_warmup_dropout")
    statuses = [t.data.tags["hpstudy.status"] for t in trials]
    assert len(trials) == TRIALS and set(statuses) <= {"completed", "early_stopped"}
    assert "early_stopped" in statuses
